// Every request scigate's Airflow engine can send, sent to `prism mock` serving Airflow's
// official contracts (v1 = Airflow 2, v2 = Airflow 3; started by the prism CTest fixture,
// see tests/peers/prism.py). Prism refuses a request that breaks the contract (v1: 400
// with sl-violations, v2: 422), which the engine reports as an error: each call must
// succeed, and the engine must read Prism's example answers.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/time_util.h"
#include "engine/airflow_engine.h"
#include "engine/airflow_sync.h"
#include "engine/engine_factory.h"
#include "ledger/sqlite_ledger.h"
#include "peer_env.h"

namespace scigate {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// Prism's examples name everything "string": the DAG, its runs, its tasks.
constexpr const char* kDag = "string";

class AirflowContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto env = peer_env("PRISM_ENV");
    std::string key = GetParam() == "v1" ? "PRISM_V1" : "PRISM_V2";
    ASSERT_TRUE(env.count(key)) << "PRISM_ENV does not name a running prism (" << key << ")";
    dir_ = fs::temp_directory_path() / ("scigate-contract-" + random_hex(4));
    fs::create_directories(dir_);
    AirflowEngineConfig& airflow = config_.engine.backend.emplace<AirflowEngineConfig>();
    airflow.url = env[key];
    airflow.api = GetParam();
    airflow.show_paused = true;  // Prism's example DAG is paused
    airflow.max_retries = 0;
    if (GetParam() == "v2") {  // the v2 contract wants a bearer token
      airflow.auth.type = "token";
      airflow.auth.token = Secret("test", "contract-test-token");
    } else {  // v1 lists Basic among its security schemes: prism checks the header's form
      airflow.auth.type = "basic";
      airflow.auth.username = "admin";
      airflow.auth.password = Secret("test", "contract-test-password");
    }
    config_.staging.bucket = "staging";
    CollectionConfig col;
    col.id = "images";
    col.bucket = "edrn-bucket";
    col.prefix = "images/";
    col.authorized_users[kDag] = {"thomas"};
    config_.collections["images"] = col;
    auto ledger = SqliteLedger::open(dir_ / "ledger.db");
    ASSERT_TRUE(ledger) << ledger.error().internal;
    ledger_ = std::move(ledger).value();
    auto conn = connect_airflow(config_.engine);
    ASSERT_TRUE(conn) << conn.error().internal;
    client_ = conn->client;
    engine_ = std::make_unique<AirflowEngine>(config_, *ledger_, conn->client, conn->aws);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RunRecord stored_run(const std::string& engine_run_id) {
    RunRecord run;
    run.run_id = compact_stamp(std::chrono::system_clock::now()) + "-" + random_hex(4);
    run.workflow_id = kDag;
    run.username = "thomas";
    run.data_selection = "images";
    run.output_bucket = "staging";
    run.output_prefix = "thomas/" + run.run_id + "/";
    run.engine_run_id = engine_run_id.empty() ? run.run_id : engine_run_id;
    run.created_us = to_unix_micros(std::chrono::system_clock::now());
    EXPECT_TRUE(ledger_->insert(run));
    return run;
  }

  fs::path dir_;
  Config config_;
  std::unique_ptr<SqliteLedger> ledger_;
  std::shared_ptr<AirflowClient> client_;
  std::unique_ptr<AirflowEngine> engine_;
};

TEST_P(AirflowContract, CatalogListsDagsAndReadsDetails) {
  auto st = engine_->refresh_catalog();
  ASSERT_TRUE(st) << st.error().internal;
  auto list = engine_->list_workflows();
  ASSERT_TRUE(list) << list.error().internal;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, kDag);
  EXPECT_EQ((*list)[0].description, "string");
  EXPECT_TRUE(engine_->describe(kDag));
}

TEST_P(AirflowContract, TriggerSendsScigatesRunIdAndConf) {
  RunRecord run = stored_run("");
  TriggerRequest req{run,
                     json::object{{"tile_size", 64},
                                  {"in_bucket", "edrn-bucket"},
                                  {"in_prefix", "images/"},
                                  {"out_bucket", "staging"},
                                  {"out_prefix", "thomas/" + run.run_id},
                                  {"username", "thomas"}},
                     "local"};
  auto id = engine_->trigger(req);
  ASSERT_TRUE(id) << id.error().internal;
  EXPECT_EQ(*id, run.engine_run_id);
}

TEST_P(AirflowContract, StatusReadsTheRunAndItsTaskInstances) {
  RunRecord run = stored_run("");
  auto st = engine_->status(run);
  ASSERT_TRUE(st) << st.error().internal;
  EXPECT_EQ(st->state, RunState::kQueued);  // Prism's example run
  EXPECT_EQ(st->tasks_total, 1);            // and its one example task instance
}

TEST_P(AirflowContract, BatchStatus) {
  RunRecord run = stored_run(kDag);  // the example run's id, so the batch answer matches it
  auto all = engine_->statuses({run});
  ASSERT_TRUE(all) << all.error().internal;
  ASSERT_TRUE(all->count(run.run_id));
  EXPECT_EQ(all->at(run.run_id).state, RunState::kQueued);
}

TEST_P(AirflowContract, CancelPatchesTheRunToFailed) {
  RunRecord run = stored_run("");
  auto st = engine_->cancel(run);
  ASSERT_TRUE(st) << st.error().internal;
  auto after = ledger_->get(run.run_id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state, RunState::kCanceled);
}

TEST_P(AirflowContract, LogsListTasksAndReadATaskLog) {
  RunRecord run = stored_run("");
  run.state = RunState::kRunning;
  auto all = engine_->logs(run);  // Prism's example task has try 0: listed, no log asked
  ASSERT_TRUE(all) << all.error().internal;
  auto one = engine_->task_log(run, TaskInstanceInfo{"extract", "success", 1, -1});
  ASSERT_TRUE(one) << one.error().internal;
  auto mapped = engine_->task_log(run, TaskInstanceInfo{"extract", "success", 2, 3});
  ASSERT_TRUE(mapped) << mapped.error().internal;
}

TEST_P(AirflowContract, LedgerSyncPagesThroughDagRuns) {
  auto report = sync_ledger(*client_, config_, *ledger_, std::chrono::system_clock::now() - std::chrono::hours(24));
  ASSERT_TRUE(report) << report.error().internal;
  EXPECT_EQ(report->seen, 1);
  EXPECT_EQ(report->no_user, 1);  // the example's conf is empty
}

// The check above can fail: a request that breaks the contract is refused.
TEST_P(AirflowContract, PrismRefusesARequestThatBreaksTheContract) {
  AirflowCall bad{"POST", dag_path(kDag) + "/dagRuns", {}, json::value(json::object{{"dag_run_id", 5}}), false};
  auto r = client_->call(bad);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->status, GetParam() == "v1" ? 400 : 422);
}

INSTANTIATE_TEST_SUITE_P(Airflow, AirflowContract, ::testing::Values("v1", "v2"),
                         [](const auto& info) { return info.param == "v1" ? "Airflow2_v1" : "Airflow3_v2"; });

}  // namespace
}  // namespace scigate
