#include "app/app.h"

#include <spdlog/spdlog.h>

#include "app/logging.h"
#include "engine/engine_factory.h"
#include "ledger/sqlite_ledger.h"

namespace scigate {

App::App(Config config) : config_(std::move(config)), policy_(config_.collections), verifier_(config_.jwt) {}

App::~App() {
  if (engine_) engine_->stop();
}

Result<std::unique_ptr<App>> App::create(Config config) {
  std::unique_ptr<App> app(new App(std::move(config)));
  const Config& c = app->config_;
  auto stores = make_stores(c);
  if (!stores) return stores.error();
  app->stores_ = std::move(stores).value();
  auto ledger = SqliteLedger::open(c.ledger.sqlite_path);
  if (!ledger) return ledger.error();
  app->ledger_ = std::move(ledger).value();
  auto engine = make_engine(c, *app->ledger_, app->stores_);
  if (!engine) return engine.error();
  app->engine_ = std::move(engine).value();

  std::map<std::string, LocalObjectStore*> local;
  for (auto& [name, store] : app->stores_) {
    if (auto* l = dynamic_cast<LocalObjectStore*>(store.get())) local[name] = l;
  }
  app->deps_.reset(new ApiDeps{c, app->policy_, *app->engine_, *app->ledger_, app->stores_,
                               *app->stores_.at(c.staging.provider), std::move(local), app->metrics_});
  add_routes(app->router_, *app->deps_);

  ServerOptions opts;
  opts.host = c.server.host;
  opts.port = c.server.port;
  opts.max_header_bytes = c.server.max_header_bytes;
  opts.max_body_bytes = c.server.max_body_bytes;
  opts.read_timeout = c.server.read_timeout;
  opts.write_timeout = c.server.write_timeout;
  opts.idle_timeout = c.server.idle_timeout;
  opts.shutdown_grace = c.server.shutdown_grace;
  opts.io_threads = c.server.io_threads;
  opts.worker_threads = c.server.worker_threads;
  opts.worker_queue = c.server.worker_queue;
  opts.cors_allowed_origins = c.server.cors_allowed_origins;
  opts.access_log = access_logger();
  App* self = app.get();
  auto authenticate = [self](std::string_view authorization) -> Result<std::string> {
    auto id = self->verifier_.verify(authorization, std::chrono::system_clock::now());
    if (!id) return id.error();
    return std::move(id->username);
  };
  app->server_ = std::make_unique<Server>(std::move(opts), app->router_, authenticate, app->metrics_);
  return app;
}

Status App::listen() { return server_->listen(); }

int App::run() {
  engine_->start();
  spdlog::info("scigate listening on {}:{} (public URL {})", config_.server.host, server_->port(),
               config_.server.public_url);
  server_->run();
  spdlog::info("stopping the engine");
  engine_->stop();
  spdlog::info("scigate stopped");
  return 0;
}

}  // namespace scigate
