// Builds the configured WorkflowEngine once at startup.
#pragma once

#include <memory>

#include "catalog/config.h"
#include "engine/airflow_client.h"
#include "engine/local_engine.h"
#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"
#include "storage/store_factory.h"

namespace scigate {

// `local_host` is what a local engine needs from the process (unused by the others).
Result<std::unique_ptr<WorkflowEngine>> make_engine(const Config& config, RunLedger& ledger, const StoreMap& stores,
                                                    LocalEngineHost local_host);

// The client of an `engine.type: airflow` config and the AWS credentials that sign its
// MWAA calls (null for the other auth modes; a rotating one is not started).
struct AirflowConnection {
  std::shared_ptr<AirflowClient> client;
  std::shared_ptr<CredentialsProvider> aws;
};
Result<AirflowConnection> connect_airflow(const EngineConfig& engine);

}  // namespace scigate
