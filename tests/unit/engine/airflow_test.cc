// The Airflow engine's pure parts (params → JSON Schema, states, logs, token expiry) and
// AirflowClient's policy (retries, deadline, errors) and the DAG catalog, with a scripted
// transport in place of the network. The real protocol is tested against prism and the
// fake Airflow in tests/integration.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "auth/jwt.h"
#include "core/json_util.h"
#include "engine/airflow_auth.h"
#include "engine/airflow_client.h"
#include "engine/airflow_engine.h"
#include "engine/airflow_mapping.h"
#include "ledger/sqlite_ledger.h"

namespace scigate {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::value J(const char* text) { return parse_json(text).value(); }

TEST(DagParams, SerializedParamsOfAirflow2And3) {
  auto schema = dag_params_schema(J(R"({
    "tile_size": {"__class": "airflow.models.param.Param", "value": 64, "description": "edge",
                  "schema": {"type": "integer", "minimum": 16, "maximum": 512}},
    "mode": {"value": "fast", "description": null, "schema": {"type": "string", "enum": ["fast", "accurate"]}},
    "label": {"__class": "airflow.models.param.Param", "value": {"__class": "airflow.utils.types.ArgNotSet"},
              "schema": {"type": "string", "description": "from the schema"}},
    "note": {"value": null, "schema": {"type": ["null", "string"]}},
    "when": {"value": "2026-01-01", "schema": {"type": "string", "format": "date"}},
    "any": {"value": 1, "schema": {"type": "weird"}},
    "bins": 16
  })"));
  ASSERT_TRUE(schema) << schema.error().internal;
  auto js = schema->to_json_schema();
  const auto& p = js.at("properties").as_object();
  EXPECT_EQ(p.at("tile_size"), J(R"({"type":"integer","description":"edge","default":64,"minimum":16,"maximum":512})"));
  EXPECT_EQ(p.at("mode"), J(R"({"type":"string","default":"fast","enum":["fast","accurate"]})"));
  EXPECT_EQ(p.at("label"), J(R"({"type":"string","description":"from the schema"})"));
  EXPECT_EQ(p.at("note"), J(R"({"type":"string"})"));
  EXPECT_EQ(p.at("any"), J(R"({"default":1})"));
  EXPECT_EQ(p.at("bins"), J(R"({"default":16})"));
  EXPECT_EQ(js.at("required"), J(R"(["label"])"));
  // The schema validates before triggering, as scigate's own params do.
  EXPECT_FALSE(schema->validate(J(R"({"label":"x","tile_size":8})").as_object()));
  EXPECT_FALSE(schema->validate(J(R"({"tile_size":64})").as_object()));
  auto ok = schema->validate(J(R"({"label":"x"})").as_object());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at("tile_size"), 64);
  EXPECT_TRUE(dag_params_schema(json::value(nullptr)));
  EXPECT_FALSE(dag_params_schema(J("[1,2]")));
}

TEST(DagRuns, StatesAndTimes) {
  EXPECT_EQ(dag_run_state("queued"), RunState::kQueued);
  EXPECT_EQ(dag_run_state("running"), RunState::kRunning);
  EXPECT_EQ(dag_run_state("success"), RunState::kSuccess);
  EXPECT_EQ(dag_run_state("failed"), RunState::kFailed);
  EXPECT_FALSE(dag_run_state("up_for_retry"));
  auto st = dag_run_status(J(R"({"state":"success","start_date":"2026-01-01T00:00:00+00:00",
                                 "end_date":"2026-01-01T00:00:01.5+00:00"})"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ended_us - st->started_us, 1'500'000);
  auto running = dag_run_status(J(R"({"state":"running","start_date":"2026-01-01T00:00:00Z","end_date":null})"));
  ASSERT_TRUE(running);
  EXPECT_EQ(running->ended_us, 0);
  EXPECT_FALSE(dag_run_status(J(R"({"state":"exploded"})")));
  EXPECT_FALSE(dag_run_status(J("[]")));
}

TEST(TaskInstances, ProgressCountsTasksThatAreDone) {
  auto list = J(R"([
      {"task_id":"a","state":"success","try_number":1},
      {"task_id":"b","state":"failed","try_number":2,"map_index":3},
      {"task_id":"c","state":null,"try_number":0},
      {"task_id":"d","state":"upstream_failed"},
      {"nope":1}, 7])")
                  .as_array();
  auto tis = task_instances(std::vector<json::value>(list.begin(), list.end()));
  ASSERT_EQ(tis.size(), 4u);
  EXPECT_EQ(tis[1].try_number, 2);
  EXPECT_EQ(tis[1].map_index, 3);
  EXPECT_EQ(tis[2].state, "");
  int done = 0;
  for (const auto& t : tis) done += task_finished(t);
  EXPECT_EQ(done, 3);
}

TEST(TaskLogs, V1TextAndV2StructuredMessages) {
  EXPECT_EQ(log_text(J(R"({"content":"line 1\nline 2","continuation_token":"x"})")), "line 1\nline 2");
  EXPECT_EQ(log_text(J(R"({"content":[{"timestamp":"2026-01-01T00:00:00Z","event":"hello","level":"info"},
                                       {"event":"no time"},"plain"]})")),
            "2026-01-01T00:00:00Z hello\nno time\nplain\n");
  EXPECT_EQ(log_text(J("{}")), "");
}

TEST(DagSchedule, FromEitherApi) {
  EXPECT_EQ(dag_schedule(J(R"({"timetable_summary":"@daily"})").as_object()), "@daily");
  EXPECT_EQ(dag_schedule(J(R"({"timetable_description":"At 00:00"})").as_object()), "At 00:00");
  EXPECT_EQ(dag_schedule(J(R"({"schedule_interval":{"__type":"CronExpression","value":"0 * * * *"}})").as_object()),
            "0 * * * *");
  EXPECT_FALSE(dag_schedule(J(R"({"timetable_description":"Never, external triggers only"})").as_object()));
  EXPECT_FALSE(dag_schedule(J(R"({"schedule_interval":null})").as_object()));
}

TEST(JwtExpiry, ReadsExpWithoutVerifying) {
  std::string token = mint_hs_token(json::object{{"sub", "admin"}, {"exp", 2000000000}}, "any key");
  EXPECT_EQ(jwt_expiry(token), std::chrono::system_clock::from_time_t(2000000000));
  EXPECT_FALSE(jwt_expiry(mint_hs_token(json::object{{"sub", "admin"}}, "k")));
  EXPECT_FALSE(jwt_expiry("not-a-jwt"));
  EXPECT_FALSE(jwt_expiry("a.%%%.c"));
  // An exp beyond what a time point holds overflowed into some date instead of reading as
  // unknown (found reviewing the airflow fuzz target's reach, confirmed under UBSan with
  // fuzz/corpus/airflow/token-exp-1e300.json).
  EXPECT_FALSE(jwt_expiry(mint_hs_token(json::object{{"exp", 1e300}}, "k")));
  EXPECT_FALSE(jwt_expiry(mint_hs_token(json::object{{"exp", 100000000000000000LL}}, "k")));
  EXPECT_FALSE(jwt_expiry(mint_hs_token(json::object{{"exp", -1e19}}, "k")));
}

// ---- AirflowClient policy ------------------------------------------------------------

class ScriptedTransport : public AirflowTransport {
 public:
  using Handler = std::function<Result<UpstreamResponse>(const AirflowCall&, std::chrono::milliseconds)>;
  explicit ScriptedTransport(Handler h) : handler_(std::move(h)) {}
  Result<UpstreamResponse> exchange(const AirflowCall& call, std::chrono::milliseconds budget) override {
    ++calls;
    return handler_(call, budget);
  }
  std::atomic<int> calls{0};

 private:
  Handler handler_;
};

struct ClientFixture {
  explicit ClientFixture(ScriptedTransport::Handler h, int retries = 2, std::chrono::milliseconds timeout = 2s) {
    config.max_retries = retries;
    config.timeout = timeout;
    auto t = std::make_unique<ScriptedTransport>(std::move(h));
    transport = t.get();
    client = std::make_shared<AirflowClient>(config, std::move(t));
  }
  AirflowEngineConfig config;
  ScriptedTransport* transport;
  std::shared_ptr<AirflowClient> client;
};

UpstreamResponse answer(int status, std::string body) { return UpstreamResponse{status, {}, std::move(body)}; }

TEST(AirflowClient, IdempotentCallsAreRetriedAfter5xxAndTransportErrors) {
  int n = 0;
  ClientFixture f([&](const AirflowCall&, auto) -> Result<UpstreamResponse> {
    if (++n == 1) return answer(503, "busy");
    if (n == 2) return Error{ErrorCode::kUnavailable, "refused", "upstream unreachable"};
    return answer(200, R"({"ok":true})");
  });
  auto r = f.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(f.transport->calls, 3);
  EXPECT_EQ(f.client->exchanges(), 3);
}

TEST(AirflowClient, RetriesAreBoundedAndNonIdempotentCallsAreNotRetried) {
  ClientFixture f([](const AirflowCall&, auto) -> Result<UpstreamResponse> { return answer(500, "{}"); });
  auto r = f.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(r.error().client, "workflow engine failed");
  EXPECT_EQ(f.transport->calls, 3);
  auto once = f.client->call({"POST", "/x", {}, json::value(json::object{}), false});
  ASSERT_FALSE(once);
  EXPECT_EQ(f.transport->calls, 4);
}

TEST(AirflowClient, UnreachableIsA502NotA503) {
  ClientFixture f(
      [](const AirflowCall&, auto) -> Result<UpstreamResponse> {
        return Error{ErrorCode::kUnavailable, "connect refused", "upstream unreachable"};
      },
      0);
  auto r = f.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(r.error().client, "workflow engine unreachable");
}

TEST(AirflowClient, UnreadableAnswersAndRefusedCredentialsAre502) {
  ClientFixture garbage([](const AirflowCall&, auto) -> Result<UpstreamResponse> { return answer(200, "<html>"); });
  auto r = garbage.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(garbage.transport->calls, 1);  // not a transient failure
  ClientFixture refused([](const AirflowCall&, auto) -> Result<UpstreamResponse> { return answer(401, "{}"); });
  auto u = refused.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().client, "workflow engine refused scigate's credentials");
}

TEST(AirflowClient, OtherClientErrorsAreRepliesForTheCallerToRead) {
  ClientFixture f([](const AirflowCall&, auto) -> Result<UpstreamResponse> {
    return answer(409, R"({"detail":"DAGRun exists"})");
  });
  auto r = f.client->call({"POST", "/dags/a/dagRuns", {}, json::value(json::object{}), true});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(airflow_error_detail(*r), "HTTP 409: DAGRun exists");
}

TEST(AirflowClient, TheDeadlineCoversRetries) {
  ClientFixture f(
      [](const AirflowCall&, std::chrono::milliseconds budget) -> Result<UpstreamResponse> {
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(budget, 150ms));
        return Error{ErrorCode::kUpstreamTimeout, "timed out", "upstream timed out"};
      },
      10, 300ms);
  auto r = f.client->call({"GET", "/dags", {}, std::nullopt, true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_LE(f.transport->calls, 3);  // the budget, not max_retries, stopped it
}

// ---- runs: the engine records what it learns (workflow_engine.h, ownership) ----------

TEST(AirflowRuns, StatusAndCancelAreRecordedByTheEngine) {
  std::vector<std::string> patched;
  ClientFixture f(
      [&](const AirflowCall& call, auto) -> Result<UpstreamResponse> {
        if (call.method == "PATCH") {
          patched.push_back(call.path);
          return answer(200, R"({"state":"failed"})");
        }
        if (call.path == "/dags/wf/dagRuns/gone") return answer(404, R"({"detail":"not found"})");
        if (call.path == "/dags/wf/dagRuns/live")
          return answer(200, R"({"state":"running","start_date":"2026-01-01T00:00:00Z","end_date":null})");
        if (call.path.ends_with("/taskInstances"))
          return answer(200, R"({"task_instances":[{"task_id":"a","state":"success","try_number":1},
                                                   {"task_id":"b","state":"running","try_number":1}],
                                 "total_entries":2})");
        return answer(500, "{}");
      },
      0);
  Config config;
  config.engine.backend = f.config;
  auto opened = SqliteLedger::open(":memory:");
  ASSERT_TRUE(opened);
  RunLedger& ledger = **opened;
  AirflowEngine engine(config, ledger, f.client, nullptr);
  auto stored = [&](const std::string& id) {
    RunRecord r;
    r.run_id = r.engine_run_id = id;
    r.workflow_id = "wf";
    r.username = "thomas";
    r.output_prefix = "thomas/" + id + "/";
    r.created_us = 1;
    EXPECT_TRUE(ledger.insert(r));
    return r;
  };

  RunRecord live = stored("live");
  auto st = engine.status(live);
  ASSERT_TRUE(st) << st.error().internal;
  EXPECT_EQ(st->state, RunState::kRunning);
  auto recorded = ledger.get("live").value();
  EXPECT_EQ(recorded.state, RunState::kRunning);
  EXPECT_EQ(recorded.tasks_done, 1);
  EXPECT_EQ(recorded.tasks_total, 2);

  auto canceled = engine.cancel(recorded);
  ASSERT_TRUE(canceled) << canceled.error().internal;
  EXPECT_EQ(patched, std::vector<std::string>{"/dags/wf/dagRuns/live"});
  EXPECT_EQ(canceled->state, RunState::kCanceled);
  EXPECT_EQ(ledger.get("live")->state, RunState::kCanceled);
  EXPECT_EQ(ledger.get("live")->reason, "canceled by user");
  // Airflow shows the canceled run as failed: how it ended stands, its progress is read.
  auto later = engine.status(*canceled);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->state, RunState::kCanceled);
  EXPECT_EQ(ledger.get("live")->reason, "canceled by user");

  RunRecord gone = stored("gone");
  auto forgotten = engine.status(gone);
  ASSERT_TRUE(forgotten) << forgotten.error().internal;
  EXPECT_EQ(forgotten->state, RunState::kFailed);
  EXPECT_EQ(ledger.get("gone")->state, RunState::kFailed);
  EXPECT_EQ(ledger.get("gone")->reason, "the workflow engine no longer knows this run");
}

// ---- the DAG catalog -----------------------------------------------------------------

TEST(AirflowCatalog, PagesThroughDagsReReadsDetailsOnlyWhenReparsedAndKeepsTheLastGood) {
  std::atomic<bool> down{false};
  std::atomic<int> details{0};
  std::string parsed = "2026-01-01T00:00:00Z";
  ClientFixture f(
      [&](const AirflowCall& call, auto) -> Result<UpstreamResponse> {
        if (down) return answer(500, "{}");
        if (call.path == "/dags") {
          int offset = std::stoi(call.query.back().second);
          json::array dags;
          for (int i = offset; i < std::min(offset + 100, 150); ++i) {
            std::string id = i == 7 ? "wanted" : i == 120 ? "paused" : "dag" + std::to_string(i);
            dags.push_back(json::object{
                {"dag_id", id}, {"is_paused", id == "paused"}, {"last_parsed_time", parsed}, {"description", "d"}});
          }
          return answer(200, json::serialize(json::object{{"dags", dags}, {"total_entries", 150}}));
        }
        ++details;
        return answer(200, R"({"description":"from details","params":{"n":{"value":1,"schema":{"type":"integer"}}}})");
      },
      0);
  Config config;
  config.engine.backend = f.config;
  CollectionConfig col;
  col.authorized_users = {{"wanted", {"thomas"}}, {"paused", {"thomas"}}, {"absent", {"thomas"}}};
  config.collections["c"] = col;
  auto ledger = SqliteLedger::open(":memory:");
  ASSERT_TRUE(ledger);
  AirflowEngine engine(config, **ledger, f.client, nullptr);
  EXPECT_FALSE(engine.list_workflows());  // not loaded yet: an error, not an empty list
  ASSERT_TRUE(engine.refresh_catalog());
  auto list = engine.list_workflows();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "wanted");
  EXPECT_EQ((*list)[0].description, "from details");
  EXPECT_EQ(details, 1);
  ASSERT_TRUE(engine.refresh_catalog());
  EXPECT_EQ(details, 1);  // not re-parsed: details not read again
  down = true;
  EXPECT_FALSE(engine.refresh_catalog());
  EXPECT_TRUE(engine.describe("wanted"));  // the last good catalog stays
  EXPECT_EQ(engine.describe("absent").error().code, ErrorCode::kNotFound);
}

TEST(AirflowCatalog, DagParamsAreBoundedLikeLocalOnes) {
  ClientFixture f(
      [&](const AirflowCall& call, auto) -> Result<UpstreamResponse> {
        if (call.path == "/dags") {
          return answer(200, R"({"dags":[{"dag_id":"etl","is_paused":false}],"total_entries":1})");
        }
        return answer(200, R"({"params":{
          "note": {"value": "", "schema": {"type": "string"}},
          "script": {"value": "", "schema": {"type": "string", "maxLength": 300000}}}})");
      },
      0);
  Config config;
  config.engine.backend = f.config;
  config.engine.param_limits.max_param_bytes = 1000;
  CollectionConfig col;
  col.authorized_users = {{"etl", {"thomas"}}};
  config.collections["c"] = col;
  auto ledger = SqliteLedger::open(":memory:");
  ASSERT_TRUE(ledger);
  AirflowEngine engine(config, **ledger, f.client, nullptr);
  ASSERT_TRUE(engine.refresh_catalog());
  auto wf = engine.describe("etl");
  ASSERT_TRUE(wf);
  EXPECT_EQ(wf->params.to_json_schema().at("properties").at("script").at("maxLength"), 300000);
  auto too_long = wf->params.validate(json::object{{"note", std::string(1001, 'x')}});
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().client, "parameter 'note' is too long: 1001 bytes, at most 1000 allowed");
  EXPECT_TRUE(wf->params.validate(json::object{{"script", std::string(200000, 'x')}}));
}

}  // namespace
}  // namespace scigate
