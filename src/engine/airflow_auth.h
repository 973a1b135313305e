// How scigate proves who it is to Airflow's REST API, for every auth mode that sends the
// API request itself (mwaa-invoke-rest-api wraps the whole request instead: see
// airflow_client.cc). A mode hands out one header to add to each request; modes that log
// in (Airflow 3's /auth/token, MWAA's web login) keep what they got until it is refused
// or about to expire, so a steady-state API call costs no login round trip.
//
// Thread safety: header() and refused() may be called concurrently; a login is single
// flight (other callers wait for it, bounded by their own time budget).
// Failure: kUpstreamFailed / kUpstreamTimeout when the login itself fails.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "aws/sigv4.h"
#include "catalog/config.h"
#include "core/error.h"
#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"

namespace scigate {

using HeaderField = std::pair<std::string, std::string>;

class AirflowAuth {
 public:
  virtual ~AirflowAuth() = default;
  // The header that authenticates the next request (logging in first when needed).
  // `budget` bounds a login. An empty name means: send nothing.
  virtual Result<HeaderField> header(std::chrono::milliseconds budget) = 0;
  // Airflow answered 401 to a request that carried `sent`: forget it (when it is still
  // the current one) so that the next header() logs in again. False when logging in
  // again cannot help (static credentials).
  virtual bool refused(const HeaderField& sent) = 0;
  // "https://host" of the web server this mode logged in to, when it learnt it that way
  // (MWAA's web login); "" otherwise.
  virtual std::string origin() const { return ""; }
};

// Builds the auth mode of engine.auth (not mwaa-invoke-rest-api). `aws` signs MWAA calls.
Result<std::unique_ptr<AirflowAuth>> make_airflow_auth(const AirflowEngineConfig& config,
                                                       std::shared_ptr<UpstreamClient> http,
                                                       std::shared_ptr<CredentialsProvider> aws);

// A POST to MWAA's own API (webtoken, restapi), signed with SigV4 for service `airflow`.
Result<UpstreamRequest> signed_mwaa_post(const std::string& url, std::string json_body, CredentialsProvider& aws,
                                         const SigV4Signer& signer, std::chrono::milliseconds timeout);

// The `exp` claim of a JWT, read without verifying it (scigate is the token's holder,
// not its audience); nullopt when absent or unreadable.
std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view token);

}  // namespace scigate
