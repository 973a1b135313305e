// Handlers are pure functions: these tests call them directly, with no sockets.
#include <gtest/gtest.h>

#include <set>

#include "api/api.h"
#include "api/browse.h"
#include "api/embedded_docs.h"
#include "api/events.h"
#include "api/raster_access.h"
#include "catalog/config_loader.h"
#include "core/utf8.h"
#include "fakes/fake_engine.h"
#include "ledger/sqlite_ledger.h"
#include "temp_dir.h"

namespace json = boost::json;

namespace scigate {
namespace {

using testing::FakeEngine;
using testing::TempDir;

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("HANDLERS_TEST_SECRET", "s", 1);
    auto load = load_config_text(R"(
auth: {jwt: {secret: env:HANDLERS_TEST_SECRET}}
server: {public_url: "http://gw"}
staging: {bucket: staging, prefix: "out/"}
workflows:
  nebraska:
    description: Tile
    params: {tile_size: {type: integer, default: 64, minimum: 16}}
    steps: [{id: a, command: [/bin/true]}]
  image_stats: {steps: [{id: a, command: [/bin/true]}]}
collections:
  nebraska_images:
    description: images
    bucket: edrn
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      image_stats: {authorized_users: [thomas]}
)",
                                 dir_.path() / "c.yaml", dir_.path());
    ASSERT_TRUE(load.problems.empty()) << load.describe("c.yaml");
    config_ = std::make_unique<Config>(std::move(*load.config));
    policy_ = std::make_unique<Policy>(config_->collections);
    ledger_ = std::move(SqliteLedger::open(dir_.path() / "l.db")).value();
    auto store = std::make_shared<LocalObjectStore>("local", dir_.path() / "buckets", "http://gw", "k");
    stores_["local"] = store;
    local_ = store.get();
    ParamSchema schema =
        ParamSchema::from_properties(
            json::parse(R"({"tile_size": {"type": "integer", "default": 64, "minimum": 16}})").as_object())
            .value();
    engine_.workflows = {{"image_stats", "Stats", {}, std::nullopt}, {"nebraska", "Tile", schema, std::nullopt}};
    engine_.ledger = ledger_.get();
    rasters_ = std::make_unique<raster::RasterReaders>(stores_, config_->raster);
    deps_ = std::make_unique<ApiDeps>(ApiDeps{*config_, *policy_, engine_, *ledger_, stores_, credentials_, *store,
                                              metrics_, *rasters_, signer_, tile_seconds_});
  }

  RequestContext ctx(const std::string& user) { return {"req-1", user, std::chrono::system_clock::now()}; }
  Request request(const std::string& method, std::map<std::string, std::string> params = {}, std::string body = "") {
    Request r;
    r.method = method;
    r.path_params = std::move(params);
    r.body = std::move(body);
    return r;
  }
  json::value body(const Response& r) { return json::parse(r.body); }
  std::string error_message(const Response& r) { return std::string(body(r).at("error").at("message").as_string()); }

  TempDir dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<SqliteLedger> ledger_;
  StoreMap stores_;
  CredentialsMap credentials_;
  LocalObjectStore* local_ = nullptr;
  FakeEngine engine_;
  Metrics metrics_;
  std::unique_ptr<raster::RasterReaders> rasters_;
  UrlSigner signer_{"test-signing-key"};
  Histogram tile_seconds_;
  std::unique_ptr<ApiDeps> deps_;
};

TEST_F(HandlersTest, WorkflowListingsFollowThePolicy) {
  auto thomas = api::list_workflows(*deps_, ctx("thomas"), request("GET"));
  EXPECT_EQ(body(thomas).at("workflows").as_array().size(), 2u);
  auto dliu = api::list_workflows(*deps_, ctx("dliu"), request("GET"));
  ASSERT_EQ(body(dliu).at("workflows").as_array().size(), 1u);
  EXPECT_EQ(body(dliu).at("workflows").at(0).at("id"), "nebraska");
  EXPECT_EQ(body(api::list_workflows(*deps_, ctx("mallory"), request("GET"))).at("workflows").as_array().size(), 0u);
  EXPECT_EQ(api::describe_workflow(*deps_, ctx("dliu"), request("GET", {{"id", "image_stats"}})).status, 404);
  auto d = api::describe_workflow(*deps_, ctx("dliu"), request("GET", {{"id", "nebraska"}}));
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(body(d).at("parameters").at("properties").at("tile_size").at("minimum"), 16);
}

TEST_F(HandlersTest, StartRunBuildsConfAndLedgerEntry) {
  auto r = api::start_run(
      *deps_, ctx("thomas"),
      request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images", "tile_size": 32})"));
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(engine_.triggered.size(), 1u);
  const auto& conf = engine_.triggered[0].conf;
  EXPECT_EQ(conf.at("tile_size"), 32);
  EXPECT_EQ(conf.at("in_bucket"), "edrn");
  EXPECT_EQ(conf.at("in_prefix"), "nebraska_images/");
  EXPECT_EQ(conf.at("out_bucket"), "staging");
  std::string run_id(body(r).at("run_id").as_string());
  EXPECT_EQ(conf.at("out_prefix").as_string(), "out/thomas/" + run_id);
  EXPECT_EQ(conf.at("username"), "thomas");
  EXPECT_EQ(body(r).at("output_url").as_string(), "http://gw/output-data/thomas/" + run_id + "/");
  auto rec = ledger_->get(run_id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->engine_run_id, "engine-" + run_id);
  EXPECT_EQ(rec->params_json, R"({"tile_size":32})");
}

TEST_F(HandlersTest, BothBodyShapesAndDatasetInsideCollection) {
  ASSERT_TRUE(local_->put("edrn", "nebraska_images/sub dir/x.png", "x"));
  auto missing =
      api::start_run(*deps_, ctx("thomas"),
                     request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images/nothing"})"));
  EXPECT_EQ(missing.status, 404) << missing.body;
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}},
                                  R"({"in_data_selection": "nebraska_images/sub dir", "params": {"tile_size": 16}})"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(engine_.triggered.back().conf.at("in_prefix"), "nebraska_images/sub dir/");
  EXPECT_EQ(engine_.triggered.back().conf.at("tile_size"), 16);
}

TEST_F(HandlersTest, StartRunRejections) {
  struct Case {
    std::string user, workflow, body;
    int status;
    std::string fragment;
  };
  std::vector<Case> cases{
      {"thomas", "nebraska", "", 400, "body is required"},
      {"thomas", "nebraska", "{not json", 400, "malformed JSON"},
      {"thomas", "nebraska", "[1]", 400, "JSON object"},
      {"thomas", "nebraska", "{}", 400, "in_data_selection"},
      {"thomas", "nebraska", R"({"in_data_selection": 5})", 400, "in_data_selection"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "out_prefix": "x"})", 400,
       "'out_prefix' is set by the server"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "params": {"username": "dliu"}})", 400,
       "'username'"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "tile_size": 2})", 400,
       "'tile_size' must be >= 16"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "tile_size": "big"})", 400, "'tile_size'"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "nope": 1})", 400, "unknown parameter 'nope'"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "params": 3})", 400, "'params'"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "params": {}, "x": 1})", 400,
       "unexpected field 'x'"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images", "workflow_id": "other"})", 400, "workflow_id"},
      {"thomas", "nebraska", R"({"in_data_selection": "nebraska_images/../x"})", 400, "invalid data selection"},
      {"thomas", "nebraska", R"({"in_data_selection": "missing"})", 404, "no such data selection"},
      {"thomas", "missing", R"({"in_data_selection": "nebraska_images"})", 404, "no such workflow"},
      {"dliu", "image_stats", R"({"in_data_selection": "nebraska_images"})", 404, "no such workflow"},
      {"mallory", "nebraska", R"({"in_data_selection": "nebraska_images"})", 404, "no such workflow"},
  };
  for (const auto& c : cases) {
    auto r = api::start_run(*deps_, ctx(c.user), request("POST", {{"id", c.workflow}}, c.body));
    EXPECT_EQ(r.status, c.status) << c.body << " → " << r.body;
    EXPECT_NE(r.body.find(c.fragment), std::string::npos) << c.body << " → " << r.body;
  }
  EXPECT_TRUE(engine_.triggered.empty());
  EXPECT_TRUE(ledger_->list_for_user({"thomas", "", 10, ""})->runs.empty());
}

TEST_F(HandlersTest, ForbiddenWhenCollectionVisibleButWorkflowNotAllowedOnIt) {
  // dliu sees nebraska_images (through nebraska) and may run nebraska elsewhere... here
  // image_stats is visible to dliu nowhere, so 404; make it visible on another collection.
  config_->collections["other"] = {"other", "", "b", "o/", "local", {{"image_stats", {"dliu"}}}};
  auto r = api::start_run(*deps_, ctx("dliu"),
                          request("POST", {{"id", "image_stats"}}, R"({"in_data_selection": "nebraska_images"})"));
  EXPECT_EQ(r.status, 403) << r.body;
}

TEST_F(HandlersTest, IdempotencyKeyReturnsTheSameRun) {
  auto req = request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})");
  req.headers["idempotency-key"] = "abc-123";
  auto first = api::start_run(*deps_, ctx("thomas"), req);
  auto second = api::start_run(*deps_, ctx("thomas"), req);
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(body(first).at("run_id"), body(second).at("run_id"));
  EXPECT_EQ(engine_.triggered.size(), 1u);
  req.body = R"({"in_data_selection": "nebraska_images", "tile_size": 99})";
  EXPECT_EQ(api::start_run(*deps_, ctx("thomas"), req).status, 409);
  req.headers["idempotency-key"] = std::string(300, 'k');
  EXPECT_EQ(api::start_run(*deps_, ctx("thomas"), req).status, 400);
}

TEST_F(HandlersTest, FailedTriggerKeepsTheLedgerEntry) {
  engine_.trigger_error =
      Error{ErrorCode::kUpstreamFailed, "airflow said 500 with secret-ish detail", "workflow engine failed"};
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body.find("secret-ish"), std::string::npos);
  auto runs = ledger_->list_for_user({"thomas", "", 10, ""});
  ASSERT_EQ(runs->runs.size(), 1u);
  EXPECT_EQ(runs->runs[0].state, RunState::kFailed);
  EXPECT_EQ(runs->runs[0].reason, "could not start: workflow engine failed");
}

TEST_F(HandlersTest, RunsAreOnlyVisibleToTheirOwner) {
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  std::string id(body(r).at("run_id").as_string());
  EXPECT_EQ(api::get_run(*deps_, ctx("thomas"), request("GET", {{"run_id", id}})).status, 200);
  for (auto fn : {api::get_run, api::cancel_run, api::run_logs, api::run_events}) {
    auto other = fn(*deps_, ctx("dliu"), request("GET", {{"run_id", id}}));
    EXPECT_EQ(other.status, 404);
    EXPECT_EQ(error_message(other), "no such run");
    EXPECT_EQ(fn(*deps_, ctx("dliu"), request("GET", {{"run_id", "nonexistent"}})).body.find("no such run") !=
                  std::string::npos,
              true);
  }
  auto logs = api::run_logs(*deps_, ctx("thomas"), request("GET", {{"run_id", id}}));
  ASSERT_TRUE(logs.stream);
  EXPECT_EQ(read_all(*logs.stream), "logs of " + id);
}

TEST_F(HandlersTest, RunDetailReflectsEngineStatusAndPersistsIt) {
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  std::string id(body(r).at("run_id").as_string());
  engine_.statuses["engine-" + id] = RunStatus{RunState::kRunning, 5, 0, 1, 3, ""};
  auto d = api::get_run(*deps_, ctx("thomas"), request("GET", {{"run_id", id}}));
  EXPECT_EQ(body(d).at("status"), "running");
  EXPECT_EQ(body(d).at("progress").at("tasks_done"), 1);
  EXPECT_EQ(body(d).at("progress").at("tasks_total"), 3);
  EXPECT_EQ(body(d).at("params").at("tile_size"), 64);
  EXPECT_EQ(ledger_->get(id)->state, RunState::kRunning);
}

// The cancel path: the engine records the end (it owns the lifecycle fields) and the
// API answers what the engine returned, without writing the ledger itself.
TEST_F(HandlersTest, CancelAnswersWhatTheEngineRecorded) {
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  std::string id(body(r).at("run_id").as_string());
  auto c = api::cancel_run(*deps_, ctx("thomas"), request("POST", {{"run_id", id}}));
  ASSERT_EQ(c.status, 202);
  EXPECT_EQ(body(c).at("status"), "canceled");
  EXPECT_EQ(body(c).at("reason"), "canceled by user");
  EXPECT_EQ(engine_.canceled, std::vector<std::string>{id});
  auto recorded = ledger_->get(id);
  EXPECT_EQ(recorded->state, RunState::kCanceled);
  EXPECT_EQ(recorded->ended_us, 1'700'000'000'000'000);
  EXPECT_EQ(body(api::get_run(*deps_, ctx("thomas"), request("GET", {{"run_id", id}}))).at("status"), "canceled");
  auto again = api::cancel_run(*deps_, ctx("thomas"), request("POST", {{"run_id", id}}));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(engine_.canceled.size(), 1u);
}

// An engine that stops the run in the background answers it still running: the API shows
// that and does not record a cancel of its own (the engine will, once stopped).
TEST_F(HandlersTest, CancelInTheBackgroundLeavesTheRecordToTheEngine) {
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  std::string id(body(r).at("run_id").as_string());
  engine_.statuses["engine-" + id] = RunStatus{RunState::kRunning, 5, 0, 1, 3, ""};
  engine_.cancel_in_background = true;
  auto c = api::cancel_run(*deps_, ctx("thomas"), request("POST", {{"run_id", id}}));
  ASSERT_EQ(c.status, 202);
  EXPECT_EQ(body(c).at("status"), "running");
  auto recorded = ledger_->get(id);
  EXPECT_EQ(recorded->state, RunState::kRunning);
  EXPECT_EQ(recorded->ended_us, 0);
  EXPECT_TRUE(recorded->reason.empty());
}

TEST_F(HandlersTest, RunListIsPaginatedNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    auto c = ctx("thomas");
    c.now += std::chrono::seconds(i);
    ASSERT_EQ(
        api::start_run(*deps_, c, request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"))
            .status,
        201);
  }
  auto req = request("GET", {{"id", "nebraska"}});
  req.query.emplace_back("limit", "2");
  auto p1 = body(api::list_runs(*deps_, ctx("thomas"), req));
  ASSERT_EQ(p1.at("runs").as_array().size(), 2u);
  EXPECT_GT(std::string(p1.at("runs").at(0).at("run_id").as_string()),
            std::string(p1.at("runs").at(1).at("run_id").as_string()));
  req.query.emplace_back("cursor", std::string(p1.at("next_cursor").as_string()));
  auto p2 = body(api::list_runs(*deps_, ctx("thomas"), req));
  EXPECT_EQ(p2.at("runs").as_array().size(), 2u);
  req.query.emplace_back("limit", "0");
  EXPECT_EQ(api::list_runs(*deps_, ctx("thomas"), req).status, 400);
  req.query.emplace_back("limit", "abc");
  EXPECT_EQ(api::list_runs(*deps_, ctx("thomas"), req).status, 400);
  EXPECT_EQ(
      body(api::list_runs(*deps_, ctx("dliu"), request("GET", {{"id", "nebraska"}}))).at("runs").as_array().size(), 0u);
}

TEST_F(HandlersTest, OutputBrowsingMetadataAndSignedDownloads) {
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/result.png", "PNG"));
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/tiles/t1.png", "T"));
  ASSERT_TRUE(local_->put("staging", "out/dliu/r9/secret.png", "D"));
  Request browse = request("GET");
  browse.tail = "thomas/r1/";
  auto listing = api::browse_outputs(*deps_, ctx("thomas"), browse);
  ASSERT_EQ(listing.status, 200) << listing.body;
  auto js = body(listing);
  ASSERT_EQ(js.at("files").as_array().size(), 1u);
  EXPECT_EQ(js.at("folders").at(0).at("name"), "tiles");
  std::string href(js.at("files").at(0).at("href").as_string());

  Request put = request("PUT", {}, R"({"files": {"result.png": {"properties": {"reviewer": "thomas", "score": 5}}}})");
  put.tail = "thomas/r1/";
  auto updated = api::update_output_metadata(*deps_, ctx("thomas"), put);
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(local_->get("staging", "out/thomas/r1/result.png.cfg").value(),
            "[result.png]\nreviewer = thomas\nscore = 5\n\n");
  auto after = body(api::browse_outputs(*deps_, ctx("thomas"), browse));
  ASSERT_EQ(after.at("files").as_array().size(), 1u);  // the sidecar is not listed as a file
  EXPECT_EQ(after.at("files").at(0).at("properties").at("reviewer"), "thomas");

  put.body = R"({"files": {"missing.png": {"properties": {"a": "b"}}}})";
  EXPECT_EQ(api::update_output_metadata(*deps_, ctx("thomas"), put).status, 404);
  put.body = R"({"files": {"../../dliu/r9/secret.png": {"properties": {"a": "b"}}}})";
  EXPECT_EQ(api::update_output_metadata(*deps_, ctx("thomas"), put).status, 400);
  put.body = R"({"files": {"result.png": {"properties": {"bad=key": "b"}}}})";
  EXPECT_EQ(api::update_output_metadata(*deps_, ctx("thomas"), put).status, 400);
  put.body = R"({"nofiles": 1})";
  EXPECT_EQ(api::update_output_metadata(*deps_, ctx("thomas"), put).status, 400);

  Request other = request("GET");
  other.tail = "dliu/r9/";
  EXPECT_EQ(api::browse_outputs(*deps_, ctx("thomas"), other).status, 403);
  Request html = browse;
  html.headers["accept"] = "text/html";
  auto page = api::browse_outputs(*deps_, ctx("thomas"), html);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("result.png"), std::string::npos);

  // Follow the href through the /files handler.
  std::string path = href.substr(std::string("http://gw/files/local/staging/").size());
  Request dl = request("GET", {{"provider", "local"}, {"bucket", "staging"}});
  dl.tail = path.substr(0, path.find('?'));
  dl.query = parse_query(path.substr(path.find('?') + 1));
  auto file = api::serve_signed_file(*deps_, ctx(""), dl);
  ASSERT_EQ(file.status, 200) << file.body;
  ASSERT_TRUE(file.stream);
  EXPECT_EQ(file.stream->size(), 3u);
  EXPECT_EQ(file.content_type, "image/png");
  dl.query.emplace_back("sig", std::string(64, '0'));
  EXPECT_EQ(api::serve_signed_file(*deps_, ctx(""), dl).status, 403);
}

TEST_F(HandlersTest, FileUnderOutputPathRedirectsToItsLink) {
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/result.png", "PNG"));
  Request req = request("GET");
  req.tail = "thomas/r1/result.png";
  auto r = api::browse_outputs(*deps_, ctx("thomas"), req);
  EXPECT_EQ(r.status, 302);
  req.tail = "thomas/r1/nothing";
  EXPECT_EQ(api::browse_outputs(*deps_, ctx("thomas"), req).status, 404);
  req.tail = "";
  EXPECT_EQ(api::browse_outputs(*deps_, ctx("newuser"), req).status, 200);  // empty root
}

std::string header_of(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

TEST_F(HandlersTest, PreviewAnswersAFilesFirstBytesAsTheListingAllowsIt) {
  std::string big(api::kPreviewBytes + 10, 'a');
  big[api::kPreviewBytes - 1] = 'z';
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/big.csv", big));
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/small.json", R"({"a": 1})"));
  ASSERT_TRUE(local_->put("staging", "out/thomas/r1/empty.txt", ""));
  ASSERT_TRUE(local_->put("staging", "out/dliu/r9/secret.txt", "D"));
  Request req = request("GET");
  req.query.emplace_back("preview", "");
  req.tail = "thomas/r1/big.csv";
  auto r = api::browse_outputs(*deps_, ctx("thomas"), req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, big.substr(0, api::kPreviewBytes));  // the cap, ending with the last byte under it
  EXPECT_EQ(r.content_type, "text/csv");
  EXPECT_EQ(header_of(r, "X-File-Size"), std::to_string(big.size()));
  EXPECT_EQ(header_of(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(r, "Content-Disposition"), "attachment");
  EXPECT_EQ(header_of(r, "Cache-Control"), "private");
  req.tail = "thomas/r1/small.json";
  r = api::browse_outputs(*deps_, ctx("thomas"), req);
  EXPECT_EQ(r.body, R"({"a": 1})");
  EXPECT_EQ(r.content_type, "application/json");
  req.tail = "thomas/r1/empty.txt";
  r = api::browse_outputs(*deps_, ctx("thomas"), req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header_of(r, "X-File-Size"), "0");
  // Folders and missing files are not previews; another user's outputs are refused as
  // their listing is.
  for (const char* tail : {"thomas/r1/", "thomas/r1", "thomas/r1/nothing", "", "thomas/r9/secret.txt"}) {
    req.tail = tail;
    EXPECT_EQ(api::browse_outputs(*deps_, ctx("thomas"), req).status, 404) << tail;
  }
  req.tail = "dliu/r9/secret.txt";
  EXPECT_EQ(api::browse_outputs(*deps_, ctx("thomas"), req).status, 403);
  req.tail = "thomas/r1/../../dliu/r9/secret.txt";
  EXPECT_EQ(api::browse_outputs(*deps_, ctx("thomas"), req).status, 400);

  // Data-selection files: for the users of its workflows only.
  ASSERT_TRUE(local_->put("edrn", "nebraska_images/notes.txt", "hello"));
  Request sel = request("GET", {{"id", "nebraska_images"}});
  sel.query.emplace_back("preview", "");
  sel.tail = "notes.txt";
  r = api::browse_data_selection(*deps_, ctx("thomas"), sel);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(api::browse_data_selection(*deps_, ctx("mallory"), sel).status, 404);
}

TEST_F(HandlersTest, DataSelections) {
  auto r = body(api::list_data_selections(*deps_, ctx("dliu"), request("GET")));
  ASSERT_EQ(r.at("data_selections").as_array().size(), 1u);
  EXPECT_EQ(r.at("data_selections").at(0).at("workflows").as_array().size(), 1u);
  Request q = request("GET");
  q.query.emplace_back("data_id", "nebraska_images");
  EXPECT_EQ(body(api::workflows_for_data_selection(*deps_, ctx("thomas"), q)).at("workflows").as_array().size(), 2u);
  EXPECT_EQ(api::workflows_for_data_selection(*deps_, ctx("mallory"), q).status, 404);
  EXPECT_EQ(api::workflows_for_data_selection(*deps_, ctx("thomas"), request("GET")).status, 400);
  auto by_path = api::workflows_for_data_selection(*deps_, ctx("dliu"), request("GET", {{"id", "nebraska_images"}}));
  EXPECT_EQ(body(by_path).at("workflows").as_array().size(), 1u);
}

Request raster_query(std::vector<std::pair<std::string, std::string>> query) {
  Request r;
  r.method = "GET";
  r.query = std::move(query);
  return r;
}

TEST_F(HandlersTest, RasterObjectsByUrlFollowThePolicy) {
  auto ok = api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "s3://edrn/nebraska_images/a/b.tif"}}));
  ASSERT_TRUE(ok) << ok.error().client;
  EXPECT_EQ(ok->provider, "local");
  EXPECT_EQ(ok->bucket, "edrn");
  EXPECT_EQ(ok->key, "nebraska_images/a/b.tif");
  // Not allowed and not there look the same.
  EXPECT_EQ(api::resolve_raster_object(*deps_, "mallory", raster_query({{"url", "s3://edrn/nebraska_images/a.tif"}}))
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "s3://edrn/other/a.tif"}})).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "s3://edrn/nebraska_images/../x.tif"}}))
                .error()
                .code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(
      api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "https://example.org/x.tif"}})).error().code,
      ErrorCode::kBadRequest);
  // The caller's own staged outputs, not another user's.
  EXPECT_TRUE(
      api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "s3://staging/out/thomas/r1/o.tif"}})));
  EXPECT_FALSE(api::resolve_raster_object(*deps_, "dliu", raster_query({{"url", "s3://staging/out/thomas/r1/o.tif"}})));
  // A path under a file provider's root names the same object.
  std::string path = (config_->providers.at("local").file()->root / "edrn/nebraska_images/c.tif").string();
  auto local = api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", path}}));
  ASSERT_TRUE(local) << local.error().client;
  EXPECT_EQ(local->key, "nebraska_images/c.tif");
  EXPECT_FALSE(api::resolve_raster_object(*deps_, "thomas", raster_query({{"url", "/etc/passwd"}})));
  EXPECT_FALSE(api::resolve_raster_object(
      *deps_, "thomas", raster_query({{"url", "s3://edrn/nebraska_images/a.tif"}, {"provider", "elsewhere"}})));
}

TEST_F(HandlersTest, RasterObjectsByDataSelectionAndRun) {
  auto sel = api::resolve_raster_object(*deps_, "dliu",
                                        raster_query({{"data_selection", "nebraska_images"}, {"path", "x/y.tif"}}));
  ASSERT_TRUE(sel) << sel.error().client;
  EXPECT_EQ(sel->key, "nebraska_images/x/y.tif");
  EXPECT_EQ(api::resolve_raster_object(*deps_, "mallory",
                                       raster_query({{"data_selection", "nebraska_images"}, {"path", "x/y.tif"}}))
                .error()
                .code,
            ErrorCode::kNotFound);
  EXPECT_EQ(
      api::resolve_raster_object(*deps_, "dliu", raster_query({{"data_selection", "nebraska_images"}, {"path", "x/"}}))
          .error()
          .code,
      ErrorCode::kBadRequest);
  auto r = api::start_run(*deps_, ctx("thomas"),
                          request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
  std::string run_id(body(r).at("run_id").as_string());
  auto out = api::resolve_raster_object(*deps_, "thomas", raster_query({{"run", run_id}, {"path", "cog.tif"}}));
  ASSERT_TRUE(out) << out.error().client;
  EXPECT_EQ(out->bucket, "staging");
  EXPECT_EQ(out->key, "out/thomas/" + run_id + "/cog.tif");
  EXPECT_EQ(
      api::resolve_raster_object(*deps_, "dliu", raster_query({{"run", run_id}, {"path", "cog.tif"}})).error().code,
      ErrorCode::kNotFound);
  EXPECT_EQ(api::resolve_raster_object(*deps_, "thomas", raster_query({})).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(api::resolve_raster_object(*deps_, "thomas",
                                       raster_query({{"run", run_id}, {"path", "a.tif"}, {"url", "s3://edrn/x"}}))
                .error()
                .code,
            ErrorCode::kBadRequest);
}

// Map libraries fetch tiles without a token: the grant made for one object opens that
// object only, until it expires.
TEST_F(HandlersTest, RasterGrantsCoverOneObjectUntilTheyExpire) {
  UrlSigner signer("grant-key-0123456789abcdef0123456789");
  auto now = std::chrono::system_clock::now();
  auto query = raster_query({{"data_selection", "nebraska_images"}, {"path", "a.tif"}});
  auto object = api::resolve_raster_object(*deps_, "thomas", query);
  ASSERT_TRUE(object);
  std::string grant = api::make_grant(signer, *object, now + std::chrono::minutes(10));
  auto anonymous = api::resolve_raster_object(*deps_, "", query);  // resolved without a user...
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(api::check_grant(signer, *anonymous, grant, now));  // ...and authorized by the grant
  auto other =
      api::resolve_raster_object(*deps_, "", raster_query({{"data_selection", "nebraska_images"}, {"path", "b.tif"}}));
  EXPECT_EQ(api::check_grant(signer, *other, grant, now).error().code, ErrorCode::kForbidden);
  EXPECT_FALSE(api::check_grant(signer, *anonymous, grant, now + std::chrono::minutes(11)));
  EXPECT_FALSE(api::check_grant(signer, *anonymous, grant + "0", now));
  EXPECT_FALSE(api::check_grant(signer, *anonymous, "", now));
}

TEST_F(HandlersTest, StaticAssetsArePublicAndServedOffTheWorkerPool) {
  Router router;
  add_routes(router, *deps_);
  Request req = request("GET");
  req.path = "/static/viewer/map.js";
  RouteMatch m = router.match(req);
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/static/{path...}");
  EXPECT_EQ(m.route->auth, Auth::kNone);
  EXPECT_FALSE(m.route->blocking);
  EXPECT_EQ(req.tail, "viewer/map.js");
  EXPECT_EQ(m.route->handler(ctx(""), req).status, 200);
}

TEST_F(HandlersTest, MapViewerPageIsAuthorizedLikeTheTiles) {
  Request req = raster_query({{"data_selection", "nebraska_images"}, {"path", "a.tif"}});
  req.path_params["tms"] = "WebMercatorQuad";
  EXPECT_EQ(api::cog_map(*deps_, ctx(""), req).status, 401);  // neither token nor grant
  req.query.emplace_back("grant", "1.abc");
  EXPECT_EQ(api::cog_map(*deps_, ctx(""), req).status, 403);
  EXPECT_EQ(api::cog_map(*deps_, ctx("mallory"), req).status, 404);
  req.path_params["tms"] = "NoSuchTms";
  EXPECT_EQ(api::cog_map(*deps_, ctx("thomas"), req).status, 404);
}

}  // namespace
}  // namespace scigate

namespace scigate {
namespace {

// The events of a stream's polls, as (event, id, data) triples.
struct SseEvent {
  std::string event, id, data;
};
std::vector<SseEvent> parse_sse(const std::string& text) {
  std::vector<SseEvent> out;
  SseEvent cur;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      if (!cur.event.empty()) out.push_back(cur);
      cur = {};
    } else if (line.starts_with("event: ")) {
      cur.event = line.substr(7);
    } else if (line.starts_with("id: ")) {
      cur.id = line.substr(4);
    } else if (line.starts_with("data: ")) {
      cur.data = line.substr(6);
    }
  }
  return out;
}

class RunEventsTest : public HandlersTest {
 protected:
  std::string start() {
    auto r = api::start_run(*deps_, ctx("thomas"),
                            request("POST", {{"id", "nebraska"}}, R"({"in_data_selection": "nebraska_images"})"));
    return std::string(body(r).at("run_id").as_string());
  }
  std::shared_ptr<PushSource> open(const std::string& id, std::map<std::string, std::string> headers = {}) {
    Request req = request("GET", {{"run_id", id}});
    req.headers = std::move(headers);
    Response r = api::run_events(*deps_, ctx("thomas"), req);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/event-stream");
    return r.push;
  }
};

TEST_F(RunEventsTest, FinishedRunGivesStateLogEndThenDone) {
  std::string id = start();
  engine_.statuses["engine-" + id] = RunStatus{RunState::kSuccess, 5, 9, 2, 2, ""};
  engine_.log_texts[id] = "line 1\nline 2\n";
  auto source = open(id);
  ASSERT_TRUE(source);
  auto chunk = source->poll();
  EXPECT_TRUE(chunk.done);
  auto events = parse_sse(chunk.bytes);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "state");
  auto detail = api::get_run(*deps_, ctx("thomas"), request("GET", {{"run_id", id}}));
  EXPECT_EQ(json::parse(events[0].data), body(detail));  // exactly what GET /runs/{id} says
  EXPECT_EQ(events[1].event, "log");
  EXPECT_EQ(events[1].id, "14");
  EXPECT_EQ(json::parse(events[1].data).at("text"), "line 1\nline 2\n");
  EXPECT_EQ(events[2].event, "end");
  EXPECT_EQ(json::parse(events[2].data).at("status"), "success");
  EXPECT_EQ(source->keepalive(), ": ping\n\n");
}

TEST_F(RunEventsTest, ChangesAndNewLogBytesOnlyAndResume) {
  std::string id = start();
  engine_.statuses["engine-" + id] = RunStatus{RunState::kRunning, 5, 0, 0, 2, ""};
  engine_.log_texts[id] = "a\n";
  auto source = open(id);
  auto first = parse_sse(source->poll().bytes);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].event, "state");
  EXPECT_EQ(first[1].id, "2");
  auto idle = source->poll();  // nothing changed: nothing sent
  EXPECT_EQ(idle.bytes, "");
  EXPECT_FALSE(idle.done);
  engine_.statuses["engine-" + id] = RunStatus{RunState::kRunning, 5, 0, 1, 2, ""};
  engine_.log_texts[id] = "a\nb\n";
  auto next = parse_sse(source->poll().bytes);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(json::parse(next[0].data).at("progress").at("tasks_done"), 1);
  EXPECT_EQ(json::parse(next[1].data).at("text"), "b\n");
  EXPECT_EQ(next[1].id, "4");
  // A new stream resumes at Last-Event-ID (over ?log_offset) or at ?log_offset.
  auto resumed = parse_sse(open(id, {{"last-event-id", "2"}})->poll().bytes);
  ASSERT_EQ(resumed.size(), 2u);
  EXPECT_EQ(json::parse(resumed[1].data).at("text"), "b\n");
  Request q = request("GET", {{"run_id", id}});
  q.query = {{"log_offset", "3"}};
  auto by_query = parse_sse(api::run_events(*deps_, ctx("thomas"), q).push->poll().bytes);
  ASSERT_EQ(by_query.size(), 2u);
  EXPECT_EQ(json::parse(by_query[1].data).at("text"), "\n");
  q.query = {{"log_offset", "-1"}};
  EXPECT_EQ(api::run_events(*deps_, ctx("thomas"), q).status, 400);
}

TEST_F(RunEventsTest, CharacterCutBetweenPollsIsNotRepairedAway) {
  std::string id = start();
  engine_.statuses["engine-" + id] = RunStatus{RunState::kRunning, 5, 0, 0, 1, ""};
  engine_.log_texts[id] = "caf\xC3";  // "café" with its last byte still to come
  auto source = open(id);
  auto first = parse_sse(source->poll().bytes);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(json::parse(first[1].data).at("text"), "caf");
  EXPECT_EQ(first[1].id, "3");
  engine_.log_texts[id] = "caf\xC3\xA9\xFF!";
  auto next = parse_sse(source->poll().bytes);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(json::parse(next[0].data).at("text"), "\xC3\xA9\xEF\xBF\xBD!");  // é, U+FFFD for the bad byte
  EXPECT_EQ(next[0].id, "7");
}

TEST_F(RunEventsTest, LongLogOfAFinishedRunComesInPieces) {
  std::string id = start();
  engine_.statuses["engine-" + id] = RunStatus{RunState::kFailed, 5, 9, 1, 2, "x"};
  engine_.log_texts[id] = std::string(api::RunEventSource::kMaxLogChunk + 10, 'x');
  auto source = open(id);
  auto a = source->poll();
  EXPECT_TRUE(a.again);
  EXPECT_FALSE(a.done);
  auto b = source->poll();
  EXPECT_TRUE(b.done);
  auto events = parse_sse(b.bytes);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, std::to_string(api::RunEventSource::kMaxLogChunk + 10));
  EXPECT_EQ(events[1].event, "end");
}

TEST(SseFraming, EventsAndResumeOffsets) {
  EXPECT_EQ(api::sse_event("log", R"({"text":"a\nb"})", "12"), "event: log\nid: 12\ndata: {\"text\":\"a\\nb\"}\n\n");
  EXPECT_EQ(api::sse_event("end", "{}"), "event: end\ndata: {}\n\n");
  Request r;
  EXPECT_EQ(api::resume_offset(r).value(), 0u);
  r.query = {{"log_offset", "7"}};
  EXPECT_EQ(api::resume_offset(r).value(), 7u);
  r.headers["last-event-id"] = "9";
  EXPECT_EQ(api::resume_offset(r).value(), 9u);
  r.headers["last-event-id"] = "9x";
  EXPECT_EQ(api::resume_offset(r).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(utf8_complete_prefix("ab\xE2\x82"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xE2\x82\xAC"), 5u);
  EXPECT_EQ(utf8_complete_prefix("ab\xFF"), 3u);
  EXPECT_EQ(utf8_complete_prefix(""), 0u);
}

}  // namespace
}  // namespace scigate

namespace scigate {
namespace {

// A documented path with its {parameters} replaced, once per combination of the values of
// enum parameters (e.g. every image format), else by "1".
std::vector<std::string> sample_paths(const std::string& path, const json::object& item, const json::object& op) {
  std::vector<std::string> out{""};
  for (size_t at = 0; at < path.size();) {
    size_t open = path.find('{', at);
    if (open == std::string::npos) {
      for (auto& p : out) p += path.substr(at);
      break;
    }
    size_t close = path.find('}', open);
    std::string name = path.substr(open + 1, close - open - 1);
    std::vector<std::string> values{"1"};
    for (const json::object* scope : {&op, &item}) {
      const auto* params = scope->if_contains("parameters");
      for (const auto& p : params ? params->as_array() : json::array{}) {
        const auto& o = p.as_object();
        if (!o.contains("name") || o.at("name").as_string() != name || !o.at("schema").as_object().contains("enum"))
          continue;
        values.clear();
        for (const auto& v : o.at("schema").at("enum").as_array()) values.emplace_back(v.as_string());
      }
    }
    std::vector<std::string> next;
    for (const auto& p : out) {
      for (const auto& v : values) next.push_back(p + path.substr(at, open - at) + v);
    }
    out = std::move(next);
    at = close + 1;
  }
  return out;
}

// The route table and /openapi.json agree: every documented operation is served by a
// route of its method, and every route is reached by some documented operation, so a new
// route without documentation fails here.
TEST_F(HandlersTest, OpenApiDocumentsEveryRouteAndOnlyServedOnes) {
  Router router;
  add_routes(router, *deps_);
  auto doc = json::parse(openapi_document()).as_object();
  std::set<std::pair<std::string, std::string>> reached;  // (method, pattern)
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters") continue;
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (const auto& sample : sample_paths(std::string(path), item.as_object(), op.as_object())) {
        Request req;
        req.method = upper;
        req.path = sample;
        RouteMatch m = router.match(req);
        EXPECT_TRUE(m.route && m.route->method == upper)
            << upper << " " << path << " (as " << sample << ") is documented but served by no route";
        if (m.route) reached.insert({m.route->method, m.route->pattern});
      }
    }
  }
  for (const Route& r : router.routes()) {
    EXPECT_TRUE(reached.count({r.method, r.pattern})) << r.method << " " << r.pattern << " is missing in openapi.json";
  }
}

}  // namespace
}  // namespace scigate
