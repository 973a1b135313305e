// HTTP requests as the server reads and routes them: raw bytes from a connection (any
// number of pipelined requests, chunked bodies, arriving in pieces) go through Beast's
// request_parser with the server's header and body limits, to_request, and the router
// over the real route table (add_routes). Matched GET and PUT requests then reach their
// handlers, as user "thomas" when the route needs a user (tokens have their own target),
// over a local-folder store and a SQLite ledger seeded with a few files and runs. POST
// handlers are left out: each would start or cancel a run and grow the ledger without
// bound.
#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "api/api.h"
#include "catalog/config_loader.h"
#include "fakes/fake_engine.h"
#include "fuzz_check.h"
#include "http/beast_request.h"
#include "http/server.h"
#include "ledger/sqlite_ledger.h"
#include "unit/temp_dir.h"

namespace http = boost::beast::http;
namespace json = boost::json;

namespace scigate {
namespace {

constexpr char kSecret[] = "fuzz-http-secret";
constexpr char kConfig[] = R"(
auth: {jwt: {secret: env:FUZZ_HTTP_SECRET}}
server: {public_url: "http://gw"}
providers: {local: {type: file, root: buckets, signing_key: env:FUZZ_HTTP_SECRET}}
staging: {bucket: staging, prefix: "out/"}
workflows:
  nebraska:
    description: Tile
    params: {tile_size: {type: integer, default: 64, minimum: 16}}
    steps: [{id: a, command: [/bin/true]}]
  image_stats: {steps: [{id: a, command: [/bin/true]}]}
collections:
  nebraska_images:
    bucket: edrn
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas, dliu]}
      image_stats: {authorized_users: [thomas]}
)";

// Everything add_routes needs, built once as App::create builds it.
struct World {
  testing::TempDir dir;
  std::unique_ptr<Config> config;
  std::unique_ptr<Policy> policy;
  testing::FakeEngine engine;
  std::unique_ptr<SqliteLedger> ledger;
  StoreMap stores;
  CredentialsMap credentials;
  Metrics metrics;
  std::unique_ptr<raster::RasterReaders> rasters;
  UrlSigner signer{"fuzz-signing-key"};
  Histogram tile_seconds;
  std::unique_ptr<ApiDeps> deps;
  Router router;

  World() {
    spdlog::set_level(spdlog::level::off);
    ::setenv("FUZZ_HTTP_SECRET", kSecret, 1);
    auto load = load_config_text(kConfig, dir.path() / "c.yaml", dir.path());
    FUZZ_CHECK(load.problems.empty());
    config = std::make_unique<Config>(std::move(*load.config));
    config->ledger.sqlite_path = dir.path() / "ledger.db";
    policy = std::make_unique<Policy>(config->collections);
    ledger = std::move(SqliteLedger::open(config->ledger.sqlite_path)).value();
    stores = std::move(make_stores(*config, credentials, kSecret)).value();
    ParamSchema schema =
        ParamSchema::from_properties(json::parse(R"({"tile_size": {"type": "integer", "default": 64}})").as_object())
            .value();
    engine.workflows = {{"image_stats", "Stats", {}, std::nullopt}, {"nebraska", "Tile", schema, std::nullopt}};
    std::map<std::string, LocalObjectStore*> local;
    for (auto& [name, store] : stores) {
      if (auto* l = dynamic_cast<LocalObjectStore*>(store.get())) local[name] = l;
    }
    ObjectStore& staging = *stores.at(config->staging.provider);
    rasters = std::make_unique<raster::RasterReaders>(stores, config->raster);
    deps = std::make_unique<ApiDeps>(ApiDeps{*config, *policy, engine, *ledger, stores, credentials, staging,
                                             std::move(local), metrics, *rasters, signer, tile_seconds});
    add_routes(router, *deps);
    seed(staging);
  }

  void seed(ObjectStore& staging) {
    for (const char* key : {"out/thomas/run-1/tiles/t0.png", "out/thomas/run-1/summary.json", "out/dliu/run-2/x.csv"})
      FUZZ_CHECK(staging.put("staging", key, "data").ok());
    FUZZ_CHECK(staging.put("staging", "out/thomas/run-1/summary.json.cfg", "[summary.json]\nk = v\n").ok());
    FUZZ_CHECK(stores.at("local")->put("edrn", "nebraska_images/a b/img 1.png", "png").ok());
    int n = 0;
    for (const char* user : {"thomas", "thomas", "dliu"}) {
      RunRecord r;
      r.run_id = "run-" + std::to_string(++n);
      r.workflow_id = "nebraska";
      r.username = user;
      r.data_selection = "nebraska_images";
      r.output_bucket = "staging";
      r.output_prefix = "out/" + std::string(user) + "/" + r.run_id + "/";
      r.engine_run_id = r.run_id;
      r.state = n == 1 ? RunState::kSuccess : RunState::kRunning;
      r.created_us = 1'700'000'000'000'000 + n;
      FUZZ_CHECK(ledger->insert(r).ok());
    }
  }
};

// A connection's bytes, handed out in pieces as TCP might: the piece size varies with
// the input so that the parser's resumption points move around.
class Connection {
 public:
  explicit Connection(std::string_view data) : data_(data), piece_(1 + data.size() % 97) {}

  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    if (pos_ == data_.size()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    size_t n = boost::asio::buffer_copy(buffers, boost::asio::buffer(data_.substr(pos_, piece_)));
    pos_ += n;
    piece_ = piece_ * 7 % 4099 + 1;
    return n;
  }
  template <typename MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t piece_;
};

void check_request(const Request& req) {
  for (const auto& [name, value] : req.headers) {
    for (char c : name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  }
  FUZZ_CHECK(req.path.find('?') == std::string::npos);
}

void serve(World& w, Request& req) {
  RouteMatch m = w.router.match(req);
  if (!m.route) return;
  FUZZ_CHECK(m.path_known && (m.route->method == req.method || (req.method == "HEAD" && m.route->method == "GET")));
  if (req.method != "GET" && req.method != "HEAD" && req.method != "PUT") return;
  RequestContext ctx{"req-fuzz", m.route->auth == Auth::kRequired ? "thomas" : "",
                     std::chrono::system_clock::from_time_t(1'767'225'600)};
  Response resp = m.route->handler(ctx, req);
  FUZZ_CHECK(resp.status >= 200 && resp.status < 600);
  // A healthy backend never makes a handler fail with 500, whatever the request.
  FUZZ_CHECK(resp.status != 500);
  // The signing key never shows (unless the request itself carried the text).
  bool asked = req.path.find(kSecret) != std::string::npos || req.body.find(kSecret) != std::string::npos;
  for (const auto& [k, v] : req.query) asked = asked || v.find(kSecret) != std::string::npos;
  FUZZ_CHECK(asked || resp.body.find(kSecret) == std::string::npos);
  // An event stream's first poll always says the run's state (resume offsets are fuzzed).
  if (resp.push) FUZZ_CHECK(resp.push->poll().bytes.starts_with("event: state\n"));
}

}  // namespace
}  // namespace scigate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  static World world;
  static const ServerOptions options;
  Connection conn(std::string_view(reinterpret_cast<const char*>(data), size));
  boost::beast::flat_buffer buffer;
  // As Server::Impl::session: one parser per request on a connection kept alive.
  for (;;) {
    BeastRequestParser parser;
    limit_parser(parser, options.max_header_bytes, options.max_body_bytes);
    boost::system::error_code ec;
    http::read(conn, buffer, parser, ec);
    if (ec) break;
    const auto& msg = parser.get();
    // As the server: a request refused on its header is answered and the connection closed.
    if (refuse_header(msg)) break;
    Request req = to_request(msg);
    check_request(req);
    serve(world, req);
    if (!msg.keep_alive()) break;
  }
  return 0;
}
