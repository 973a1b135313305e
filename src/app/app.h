// The wiring: builds every backend from the config once at startup and owns their
// lifetimes. Nothing else in scigate constructs backends.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "api/api.h"
#include "auth/jwt.h"
#include "catalog/config.h"
#include "engine/engine_factory.h"
#include "http/server.h"

namespace scigate {

class App {
 public:
  // Opens the ledger, builds stores and engine, registers routes. Does not listen yet.
  static Result<std::unique_ptr<App>> create(Config config);
  ~App();

  // The HTTP server: binds (the server is made here, so that a Lambda, which never
  // listens, has no idle I/O and worker threads).
  Status listen();
  // Starts the background work, serves until SIGTERM/SIGINT, then stops it. Returns the
  // process exit code.
  int run();

  // Without the server (Lambda): the pipeline requests go through, and the background
  // work (credential rotation, ledger, engine) to start before the first and stop after
  // the last request.
  const RequestPipeline& pipeline() const { return *pipeline_; }
  // The caller of an Authorization header value, by the server's rules.
  Result<std::string> authenticate(std::string_view authorization) const;
  const Config& config() const { return config_; }
  // `run_local_steps` false (Lambda): the local engine is not started, so this process
  // runs no steps and ends no other instance's runs; what it triggers waits in the
  // ledger for a server on the same ledger. Other engines start as usual.
  void start(bool run_local_steps = true);
  void stop();
  // Waits, at most `limit`, until the engine can list its workflows (the Airflow engine
  // loads its DAG list in the background): a cold Lambda then answers its first request
  // instead of a 503. Returns whether it is ready.
  bool wait_until_ready(std::chrono::milliseconds limit);

  // True when this app's ledger is a file of its own (SQLite) while runs live in Airflow:
  // Lambda functions in seed mode, where each function has its own /tmp and none sees the
  // runs another one started.
  bool ledger_is_private_copy() const;
  // Imports into the ledger the Airflow DAG runs started since the last import (30 days
  // at first), at most once every `min_interval`; for ledger_is_private_copy() apps,
  // before they list or read runs. Thread-safe.
  Status import_engine_runs(std::chrono::milliseconds min_interval);

 private:
  explicit App(Config config);

  Config config_;
  Policy policy_;
  JwtVerifier verifier_;
  CredentialsMap credentials_;
  StoreMap stores_;
  std::unique_ptr<RunLedger> ledger_;
  std::unique_ptr<WorkflowEngine> engine_;
  Metrics metrics_;
  std::unique_ptr<raster::RasterReaders> rasters_;
  std::unique_ptr<UrlSigner> grant_signer_;
  Histogram tile_seconds_;
  Router router_;
  std::unique_ptr<ApiDeps> deps_;
  std::unique_ptr<RequestPipeline> pipeline_;
  std::unique_ptr<Server> server_;
  bool started_ = false;
  std::mutex import_mu_;
  AirflowConnection import_conn_;  // made at the first import
  SystemTime imported_until_{};    // the start of the last import that succeeded
  std::chrono::steady_clock::time_point last_import_{};
};

}  // namespace scigate
