// Builds the configured WorkflowEngine once at startup.
#pragma once

#include <memory>

#include "catalog/config.h"
#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"
#include "storage/store_factory.h"

namespace scigate {

Result<std::unique_ptr<WorkflowEngine>> make_engine(const Config& config, RunLedger& ledger, const StoreMap& stores);

}  // namespace scigate
