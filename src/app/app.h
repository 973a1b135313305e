// The wiring: builds every backend from the config once at startup and owns their
// lifetimes. Nothing else in scigate constructs backends.
#pragma once

#include <memory>

#include "api/api.h"
#include "auth/jwt.h"
#include "catalog/config.h"
#include "http/server.h"

namespace scigate {

class App {
 public:
  // Opens the ledger, builds stores and engine, registers routes. Does not listen yet.
  static Result<std::unique_ptr<App>> create(Config config);
  ~App();

  Status listen();
  // Starts the engine's background work, serves until SIGTERM/SIGINT, then stops the
  // engine. Returns the process exit code.
  int run();

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
  std::unique_ptr<Server> server_;
};

}  // namespace scigate
