// AirflowClient: one call to Airflow's stable REST API — v1 (Airflow 2, /api/v1) or v2
// (Airflow 3, /api/v2) — sent the way engine.auth says: directly with a header from
// AirflowAuth (none, basic, token, airflow3-password, mwaa-web-login), or wrapped in
// MWAA's InvokeRestApi (mwaa-invoke-rest-api). It owns what every call needs: the
// operation's deadline (engine.timeout, retries included), bounded retries of idempotent
// calls with jittered backoff, one new login after a 401, and turning failures into
// scigate errors.
//
// Thread safety: call() may be called concurrently.
// Failure: kUpstreamTimeout when the deadline passes; kUpstreamFailed for everything else
// Airflow does wrong (unreachable, 5xx, invalid JSON, scigate's credentials refused).
// Other 4xx answers are returned as replies: what they mean depends on the call.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/config.h"
#include "core/error.h"
#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"

namespace scigate {

struct AirflowCall {
  std::string method = "GET";
  std::string path;                                        // below the API base, percent-encoded: "/dags/etl/dagRuns"
  std::vector<std::pair<std::string, std::string>> query;  // raw; the client encodes them
  std::optional<boost::json::value> body;
  bool idempotent = true;  // may be retried after a transport error or a 5xx
};

struct AirflowReply {
  int status = 0;
  boost::json::value body;  // the JSON answer; null for an empty or non-JSON 4xx body
};

// One exchange as the auth mode sends it (direct, or through MWAA's InvokeRestApi).
class AirflowTransport {
 public:
  virtual ~AirflowTransport() = default;
  // Airflow's status and raw body, or a transport error.
  virtual Result<UpstreamResponse> exchange(const AirflowCall& call, std::chrono::milliseconds budget) = 0;
};

class AirflowClient {
 public:
  AirflowClient(const AirflowEngineConfig& config, std::unique_ptr<AirflowTransport> transport);
  // The transport engine.auth asks for; `aws` signs MWAA calls (may be null otherwise).
  static Result<std::unique_ptr<AirflowClient>> create(const AirflowEngineConfig& config,
                                                       std::shared_ptr<UpstreamClient> http,
                                                       std::shared_ptr<CredentialsProvider> aws);

  Result<AirflowReply> call(const AirflowCall& call) const;

  bool v2() const { return v2_; }
  // Upstream exchanges sent so far (retries and re-sent requests included).
  int64_t exchanges() const { return exchanges_.load(); }

 private:
  std::unique_ptr<AirflowTransport> transport_;
  bool v2_;
  std::chrono::milliseconds timeout_;
  int max_retries_;
  mutable std::atomic<int64_t> exchanges_{0};
};

// The message of an Airflow error answer (v1 problem+json `detail`, v2 `detail`), for logs.
std::string airflow_error_detail(const AirflowReply& reply);

}  // namespace scigate
