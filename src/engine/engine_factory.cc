#include "engine/engine_factory.h"

#include "engine/airflow_engine.h"
#include "engine/local_engine.h"

namespace scigate {

Result<AirflowConnection> connect_airflow(const EngineConfig& engine) {
  const AirflowEngineConfig* airflow = engine.airflow();
  if (!airflow) return Error::bad_request("the configured engine is not airflow");
  auto http = std::make_shared<UpstreamClient>();
  AirflowConnection out;
  if (airflow->auth.type.rfind("mwaa-", 0) == 0) {
    auto aws = make_credentials("mwaa " + airflow->auth.environment, airflow->auth.credentials, http);
    if (!aws) return aws.error();
    out.aws = std::move(aws).value();
  }
  auto client = AirflowClient::create(*airflow, http, out.aws);
  if (!client) return client.error();
  out.client = std::move(client).value();
  return out;
}

Result<std::unique_ptr<WorkflowEngine>> make_engine(const Config& config, RunLedger& ledger, const StoreMap& stores,
                                                    LocalEngineHost local_host) {
  if (const LocalEngineConfig* local = config.engine.local()) {
    auto staging = stores.find(config.staging.provider);
    if (staging == stores.end()) return Error::internal_error("staging provider missing");
    return std::unique_ptr<WorkflowEngine>(std::make_unique<LocalEngine>(*local, config.workflows, ledger, stores,
                                                                         staging->second, std::move(local_host)));
  }
  auto conn = connect_airflow(config.engine);
  if (!conn) return conn.error();
  return std::unique_ptr<WorkflowEngine>(std::make_unique<AirflowEngine>(config, ledger, conn->client, conn->aws));
}

}  // namespace scigate
