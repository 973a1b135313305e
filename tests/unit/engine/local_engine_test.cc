#include "engine/local_engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "ledger/sqlite_ledger.h"
#include "storage/local_store.h"
#include "temp_dir.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace scigate {
namespace {

using testing::TempDir;

class LocalEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_ = std::move(SqliteLedger::open(dir_.path() / "ledger.db")).value();
    auto store = std::make_shared<LocalObjectStore>("local", dir_.path() / "buckets", "http://gw", "k");
    stores_["local"] = store;
    staging_ = store;
    ASSERT_TRUE(store->put("inputs", "col/img1.txt", "one"));
    ASSERT_TRUE(store->put("inputs", "col/sub/img2.txt", "two"));
    ASSERT_TRUE(store->put("inputs", "elsewhere.txt", "not in the selection"));
  }

  std::string script(const std::string& name, const std::string& body) {
    fs::path p = dir_.path() / name;
    std::ofstream(p) << "#!/bin/bash\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p.string();
  }

  void make_engine(int parallel = 2) {
    EngineConfig cfg;
    cfg.max_parallel_runs = parallel;
    cfg.work_dir = dir_.path() / "runs";
    cfg.cancel_grace = std::chrono::milliseconds(300);
    engine_ = std::make_unique<LocalEngine>(cfg, workflows_, *ledger_, stores_, staging_);
  }

  RunRecord trigger(const std::string& id, const std::string& wf) {
    RunRecord r;
    r.run_id = id;
    r.workflow_id = wf;
    r.username = "thomas";
    r.data_selection = "col";
    r.output_bucket = "staging";
    r.output_prefix = "thomas/" + id + "/";
    r.engine_run_id = id;
    r.created_us = to_unix_micros(std::chrono::system_clock::now());
    EXPECT_TRUE(ledger_->insert(r));
    json::object conf{{"greeting", "hi"},        {"in_bucket", "inputs"},        {"in_prefix", "col/"},
                      {"out_bucket", "staging"}, {"out_prefix", "thomas/" + id}, {"username", "thomas"}};
    auto eid = engine_->trigger({r, conf, "local"});
    EXPECT_TRUE(eid);
    return r;
  }

  RunRecord wait_for(const std::string& id, std::function<bool(const RunRecord&)> pred) {
    for (int i = 0; i < 500; ++i) {
      auto r = ledger_->get(id);
      if (r && pred(*r)) return *r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "timed out waiting for run " << id;
    return ledger_->get(id).value();
  }
  RunRecord make_run_running() {
    RunRecord r;
    r.run_id = "was-running";
    r.workflow_id = "quick";
    r.username = "thomas";
    r.data_selection = "col";
    r.output_bucket = "staging";
    r.output_prefix = "thomas/was-running/";
    r.state = RunState::kRunning;
    r.created_us = 1;
    r.started_us = 2;
    EXPECT_TRUE(ledger_->insert(r));
    return r;
  }
  RunRecord wait_terminal(const std::string& id) {
    return wait_for(id, [](const RunRecord& r) { return is_terminal(r.state); });
  }

  TempDir dir_;
  std::unique_ptr<SqliteLedger> ledger_;
  StoreMap stores_;
  std::shared_ptr<ObjectStore> staging_;
  std::map<std::string, WorkflowConfig> workflows_;
  std::unique_ptr<LocalEngine> engine_;
};

TEST_F(LocalEngineTest, RunsStepsWithConfAndEnvAndStagesOutputs) {
  workflows_["two"] = {
      "two",
      "d",
      {},
      std::nullopt,
      {{"first", {script("first.sh", R"(conf=$(cat)
echo "conf=$conf"
ls -R "$SCIGATE_INPUT_DIR" > "$SCIGATE_OUTPUT_DIR/inputs.txt"
mkdir -p "$SCIGATE_OUTPUT_DIR/nested"
echo "$SCIGATE_RUN_ID" > "$SCIGATE_OUTPUT_DIR/nested/id.txt"
echo "$SCIGATE_CONF" > "$SCIGATE_OUTPUT_DIR/conf.json"
pwd > "$SCIGATE_OUTPUT_DIR/pwd.txt")")}},
       {"second", {script("second.sh", R"(cat "$SCIGATE_INPUT_DIR/sub/img2.txt" > "$SCIGATE_OUTPUT_DIR/copied.txt"
echo second-ran)")}}}};
  make_engine();
  engine_->start();
  auto run = trigger("run-ok", "two");
  auto done = wait_terminal("run-ok");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason;
  EXPECT_EQ(done.tasks_done, 2);
  EXPECT_EQ(done.tasks_total, 2);
  EXPECT_GT(done.started_us, 0);
  EXPECT_GE(done.ended_us, done.started_us);
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/nested/id.txt").value(), "run-ok\n");
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/copied.txt").value(), "two");
  std::string inputs = staging_->get("staging", "thomas/run-ok/inputs.txt").value();
  EXPECT_NE(inputs.find("img1.txt"), std::string::npos);
  EXPECT_EQ(inputs.find("elsewhere"), std::string::npos);
  auto conf = json::parse(staging_->get("staging", "thomas/run-ok/conf.json").value());
  EXPECT_EQ(conf.at("greeting"), "hi");
  EXPECT_EQ(conf.at("username"), "thomas");
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/pwd.txt").value(), (dir_.path() / "runs/run-ok").string() + "\n");
  auto logs = engine_->logs(done);
  ASSERT_TRUE(logs);
  EXPECT_NE(logs->find("conf={\"greeting\":\"hi\""), std::string::npos) << *logs;
  EXPECT_NE(logs->find("second-ran"), std::string::npos);
  EXPECT_NE(logs->find("== step second (2/2)"), std::string::npos);
}

TEST_F(LocalEngineTest, NonZeroExitFailsTheRunAndStopsLaterSteps) {
  workflows_["bad"] = {"bad",
                       "d",
                       {},
                       std::nullopt,
                       {{"a", {script("a.sh", "echo a-ran")}},
                        {"b", {script("b.sh", "echo failing >&2; exit 3")}},
                        {"c", {script("c.sh", "touch \"$SCIGATE_OUTPUT_DIR/c-ran\"")}}}};
  make_engine();
  engine_->start();
  trigger("run-bad", "bad");
  auto done = wait_terminal("run-bad");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_EQ(done.reason, "step 'b' exited with status 3");
  EXPECT_EQ(done.tasks_done, 1);
  EXPECT_FALSE(fs::exists(dir_.path() / "runs/run-bad/output/c-ran"));
  EXPECT_NE(engine_->logs(done)->find("failing"), std::string::npos);
}

TEST_F(LocalEngineTest, MissingProgramFailsClearly) {
  workflows_["missing"] = {"missing", "d", {}, std::nullopt, {{"x", {"/nonexistent/program"}}}};
  make_engine();
  engine_->start();
  trigger("run-missing", "missing");
  auto done = wait_terminal("run-missing");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_NE(done.reason.find("127"), std::string::npos) << done.reason;
}

TEST_F(LocalEngineTest, CancelEscalatesToSigkillAfterGrace) {
  // The step ignores SIGTERM, so only SIGKILL after the grace period ends it; its child
  // sleeps too, and must die with the group.
  workflows_["stubborn"] = {"stubborn",
                            "d",
                            {},
                            std::nullopt,
                            {{"s", {script("stubborn.sh", "trap '' TERM; sleep 60 & echo started; wait; sleep 60")}}}};
  make_engine();
  engine_->start();
  auto run = trigger("run-cancel", "stubborn");
  auto running = wait_for("run-cancel", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(engine_->cancel(running));
  auto done = wait_terminal("run-cancel");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(done.state, RunState::kCanceled);
  EXPECT_EQ(done.reason, "canceled by user");
  EXPECT_GE(took, std::chrono::milliseconds(250));  // waited for the grace period
  EXPECT_EQ(engine_->cancel(done).error().code, ErrorCode::kConflict);
}

TEST_F(LocalEngineTest, MaxParallelRunsQueuesTheRestAndCancelOfQueuedRun) {
  workflows_["slow"] = {"slow", "d", {}, std::nullopt, {{"s", {script("slow.sh", "sleep 0.6")}}}};
  make_engine(1);
  engine_->start();
  trigger("p1", "slow");
  trigger("p2", "slow");
  trigger("p3", "slow");
  wait_for("p1", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  EXPECT_EQ(ledger_->get("p2")->state, RunState::kQueued);
  ASSERT_TRUE(engine_->cancel(ledger_->get("p3").value()));
  EXPECT_EQ(ledger_->get("p3")->state, RunState::kCanceled);
  EXPECT_EQ(wait_terminal("p1").state, RunState::kSuccess);
  auto p2 = wait_terminal("p2");
  EXPECT_EQ(p2.state, RunState::kSuccess);
  EXPECT_GE(p2.started_us, ledger_->get("p1")->ended_us);
}

TEST_F(LocalEngineTest, RestartMarksRunningFailedAndStartsQueued) {
  workflows_["quick"] = {"quick", "d", {}, std::nullopt, {{"s", {script("quick.sh", "echo ok")}}}};
  make_engine(1);
  // Not started: the runs stay queued, as if the server died before running them.
  trigger("q1", "quick");
  auto r = make_run_running();
  engine_.reset();
  make_engine(1);
  engine_->start();
  auto died = wait_terminal(r.run_id);
  EXPECT_EQ(died.state, RunState::kFailed);
  EXPECT_EQ(died.reason, "scigate restarted while the run was running");
  EXPECT_EQ(wait_terminal("q1").state, RunState::kSuccess);
}

}  // namespace
}  // namespace scigate
