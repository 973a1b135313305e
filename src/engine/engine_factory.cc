#include "engine/engine_factory.h"

#include "engine/local_engine.h"

namespace scigate {

Result<std::unique_ptr<WorkflowEngine>> make_engine(const Config& config, RunLedger& ledger, const StoreMap& stores) {
  if (config.engine.type == "local") {
    auto staging = stores.find(config.staging.provider);
    if (staging == stores.end()) return Error::internal_error("staging provider missing");
    return std::unique_ptr<WorkflowEngine>(
        std::make_unique<LocalEngine>(config.engine, config.workflows, ledger, stores, staging->second));
  }
  return Error::internal_error("unsupported engine type " + config.engine.type);
}

}  // namespace scigate
