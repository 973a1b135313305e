#include "app/app.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "app/logging.h"
#include "core/url_signer.h"
#include "engine/airflow_sync.h"
#include "engine/engine_factory.h"
#include "engine/step_env.h"
#include "ledger/ledger_factory.h"

namespace scigate {

namespace {

// Distinct live tokens whose verification is remembered: far more than the users of one
// platform, small in memory (about 100 bytes each).
constexpr size_t kVerifiedTokenCacheEntries = 10'000;

double unix_seconds(SystemTime t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// Per provider: refreshes, failures, seconds until expiry, last refresh time, validity.
std::string credential_metrics(const CredentialsMap& credentials) {
  std::string out =
      "# HELP scigate_credentials_refreshes_total Successful credential fetches per provider.\n"
      "# TYPE scigate_credentials_refreshes_total counter\n"
      "# HELP scigate_credentials_failures_total Failed credential fetches per provider.\n"
      "# TYPE scigate_credentials_failures_total counter\n"
      "# HELP scigate_credentials_expiry_seconds Seconds until the provider's credentials expire.\n"
      "# TYPE scigate_credentials_expiry_seconds gauge\n"
      "# HELP scigate_credentials_last_refresh_timestamp_seconds Unix time of the last successful fetch.\n"
      "# TYPE scigate_credentials_last_refresh_timestamp_seconds gauge\n"
      "# HELP scigate_credentials_valid 1 when the provider has unexpired credentials.\n"
      "# TYPE scigate_credentials_valid gauge\n";
  auto now = unix_seconds(std::chrono::system_clock::now());
  for (const auto& [name, creds] : credentials) {
    CredentialsState s = creds->state();
    if (!s.rotating) continue;
    std::string label = "{provider=\"" + prometheus_label(name) + "\"} ";
    out += "scigate_credentials_refreshes_total" + label + std::to_string(s.refreshes) + "\n";
    out += "scigate_credentials_failures_total" + label + std::to_string(s.failures) + "\n";
    if (s.expiration)
      out += "scigate_credentials_expiry_seconds" + label + std::to_string(unix_seconds(*s.expiration) - now) + "\n";
    if (s.last_refresh)
      out += "scigate_credentials_last_refresh_timestamp_seconds" + label +
             std::to_string(unix_seconds(*s.last_refresh)) + "\n";
    out += "scigate_credentials_valid" + label + (s.valid ? "1\n" : "0\n");
  }
  return out;
}

// Raises the soft RLIMIT_NOFILE to the hard limit (the default soft 1024 is what runs
// out first under many clients) and keeps the connection cap below what is left, so
// that accept() does not hit EMFILE before the cap answers 503.
size_t connection_cap(size_t configured) {
  constexpr rlim_t kReserved = 256;  // ledger, stores, upstream connections, step pipes, logs
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return configured;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised{lim.rlim_max, lim.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur <= kReserved) return configured;
  size_t usable = static_cast<size_t>(lim.rlim_cur - kReserved);
  if (configured > usable) {
    spdlog::warn("server.max_connections {} is above what {} file descriptors allow; using {}", configured,
                 lim.rlim_cur, usable);
    return usable;
  }
  return configured;
}

// The key that signs links and tile grants. Instances sharing a ledger accept each
// other's links only with one key: a ledger on a server needs server.signing_key (a file
// ledger keeps a generated key beside it), and every instance checks its key against the
// fingerprint the first one recorded in the ledger (rotating the key: docs/ARCHITECTURE.md, "Several instances").
Result<Secret> shared_signing_key(const Config& c, RunLedger& ledger) {
  std::filesystem::path folder = c.ledger.local_folder();  // empty: the loader required server.signing_key
  auto key =
      c.server.signing_key ? Result<Secret>(*c.server.signing_key) : load_or_create_key_file(folder / "signing.key");
  if (!key || !folder.empty()) return key;
  std::string fingerprint = UrlSigner(key->value()).signature("scigate signing key fingerprint", 0);
  if (auto agreed = ledger.agree("signing_key_fingerprint", fingerprint); !agreed) {
    if (agreed.error().code != ErrorCode::kConflict) return agreed.error();
    return Error::bad_request("server.signing_key (" + key->reference() +
                              ") differs from the key the other instances on this ledger sign with; give every "
                              "instance the same key");
  }
  return key;
}

}  // namespace

App::App(Config config)
    : config_(std::move(config)), policy_(config_.collections), verifier_(config_.jwt, kVerifiedTokenCacheEntries) {}

App::~App() {
  if (started_) {
    stop();
  } else if (engine_) {
    engine_->stop();
  }
}

Result<std::unique_ptr<App>> App::create(Config config) {
  std::unique_ptr<App> app(new App(std::move(config)));
  const Config& c = app->config_;
  auto credentials = make_provider_credentials(c);
  if (!credentials) return credentials.error();
  app->credentials_ = std::move(credentials).value();
  auto ledger = open_ledger(c.ledger);
  if (!ledger) return ledger.error();
  app->ledger_ = std::move(ledger).value();
  auto signing_key = shared_signing_key(c, *app->ledger_);
  if (!signing_key) return signing_key.error();
  auto stores = make_stores(c, app->credentials_, signing_key->value());
  if (!stores) return stores.error();
  app->stores_ = std::move(stores).value();
  // Steps run under scigate's own binary as their supervisor. /proc/self/exe, resolved in
  // the forked child, is this very binary even after an upgrade replaced the file.
  LocalEngineHost host{"/proc/self/exe", current_environment(), /*own_process=*/true};
  auto engine = make_engine(c, *app->ledger_, app->stores_, std::move(host));
  if (!engine) return engine.error();
  app->engine_ = std::move(engine).value();

  app->rasters_ = std::make_unique<raster::RasterReaders>(app->stores_, c.raster);
  app->grant_signer_ = std::make_unique<UrlSigner>(signing_key->value());
  app->deps_.reset(new ApiDeps{c, app->policy_, *app->engine_, *app->ledger_, app->stores_, app->credentials_,
                               *app->stores_.at(c.staging.provider), app->metrics_, *app->rasters_, *app->grant_signer_,
                               app->tile_seconds_});
  add_routes(app->router_, *app->deps_);
  app->metrics_.add_collector([self = app.get()] {
    std::ostringstream out;
    out << "# HELP scigate_tile_duration_seconds Time to answer a map tile that was rendered.\n"
        << "# TYPE scigate_tile_duration_seconds histogram\n";
    self->tile_seconds_.write(out, "scigate_tile_duration_seconds", "");
    return out.str() + self->rasters_->metrics_text();
  });
  app->metrics_.add_collector([self = app.get()] { return credential_metrics(self->credentials_); });
  app->metrics_.add_collector([self = app.get()] { return self->engine_->metrics_text(); });

  App* self = app.get();
  app->pipeline_ = std::make_unique<RequestPipeline>(
      app->router_, [self](std::string_view authorization) { return self->authenticate(authorization); },
      c.server.cors_allowed_origins);
  return app;
}

Result<std::string> App::authenticate(std::string_view authorization) const {
  auto id = verifier_.verify(authorization, std::chrono::system_clock::now());
  if (!id) return id.error();
  return std::move(id->username);
}

Status App::listen() {
  ServerOptions opts = config_.server;  // the options part of the config, as the server takes them
  opts.max_connections = connection_cap(config_.server.max_connections);
  opts.access_log_fd = STDOUT_FILENO;
  server_ = std::make_unique<Server>(
      std::move(opts), router_, [this](std::string_view authorization) { return authenticate(authorization); },
      metrics_);
  return server_->listen();
}

void App::start(bool run_local_steps) {
  if (started_) return;
  started_ = true;
  for (auto& [name, creds] : credentials_) creds->start();
  ledger_->start();
  if (run_local_steps || config_.engine.local() == nullptr) engine_->start();
}

bool App::wait_until_ready(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto listed = engine_->list_workflows();
    if (listed || listed.error().code != ErrorCode::kUnavailable) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void App::stop() {
  if (!started_) return;
  started_ = false;
  engine_->stop();
  ledger_->stop();
  for (auto& [name, creds] : credentials_) creds->stop();
}

bool App::ledger_is_private_copy() const {
  return !config_.ledger.local_folder().empty() && config_.engine.airflow() != nullptr;
}

Status App::import_engine_runs(std::chrono::milliseconds min_interval) {
  // A run imported late only shows late; a run started less than this before the last
  // import's start may carry an earlier logical date, hence the overlap.
  constexpr auto kOverlap = std::chrono::minutes(5);
  constexpr auto kFirstWindow = std::chrono::hours(24 * 30);
  std::lock_guard lock(import_mu_);
  auto now = std::chrono::steady_clock::now();
  if (last_import_ != std::chrono::steady_clock::time_point{} && now - last_import_ < min_interval) {
    return ok_status();
  }
  if (!import_conn_.client) {
    auto conn = connect_airflow(config_.engine);
    if (!conn) return conn.error();
    import_conn_ = std::move(conn).value();
  }
  SystemTime started = std::chrono::system_clock::now();
  SystemTime since = imported_until_ == SystemTime{} ? started - kFirstWindow : imported_until_ - kOverlap;
  auto report = sync_ledger(*import_conn_.client, config_, *ledger_, since);
  if (!report) return report.error();
  last_import_ = now;
  imported_until_ = started;
  if (report->imported > 0) spdlog::info("imported {} runs started elsewhere from Airflow", report->imported);
  return ok_status();
}

int App::run() {
  start();
  spdlog::info("scigate listening on {}:{} (public URL {})", config_.server.host, server_->port(),
               config_.server.public_url);
  server_->run();
  spdlog::info("stopping the engine");
  stop();
  spdlog::info("scigate stopped");
  return 0;
}

}  // namespace scigate
