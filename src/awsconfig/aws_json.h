// scigate's configuration from AWS: SSM Parameter Store (GetParameter) and Secrets
// Manager (GetSecretValue), both AWS JSON 1.1 services (POST / with X-Amz-Target), signed
// with SigV4 using the default credentials chain. Where they answer follows the AWS SDKs'
// variables, so tests and LocalStack-style setups point them elsewhere:
//   endpoint: AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL,
//             else https://{ssm,secretsmanager}.{region}.amazonaws.com;
//   region:   AWS_REGION, AWS_DEFAULT_REGION, then the seed's REGION.
//
// Failure: a missing parameter or secret is kNotFound naming it; a refusal (access denied,
// bad signature, expired token) kForbidden with AWS's error type; throttling, 5xx and
// transport errors kUnavailable. Messages name the parameter or secret, never a value.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "core/error.h"
#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"

namespace scigate {

// A variable of the environment, "" when unset (tests hand in their own).
using EnvLookup = std::function<std::string(const std::string& name)>;
EnvLookup process_env();

// AWS_REGION, AWS_DEFAULT_REGION, then REGION; "" when none is set.
std::string aws_region(const EnvLookup& env);

// One AWS JSON 1.1 service: its SigV4 name, X-Amz-Target prefix, endpoint variable and host.
struct AwsJsonService {
  std::string signing_name;   // "ssm"
  std::string target_prefix;  // "AmazonSSM"
  std::string endpoint_env;   // "AWS_ENDPOINT_URL_SSM"
  std::string display;        // "SSM", in messages
};
extern const AwsJsonService kSsmService;
extern const AwsJsonService kSecretsManagerService;

// The service's endpoint (without a trailing '/') for `region`.
std::string aws_endpoint(const AwsJsonService& service, const std::string& region, const EnvLookup& env);

// ---- the answers, read apart from the exchanges (pure; tested and fuzzed alone) --------

// An error answer: the type from X-Amzn-ErrorType or "__type" (namespace and ":..." cut:
// "ParameterNotFound"), and "message"/"Message".
struct AwsJsonError {
  std::string type;
  std::string message;
};
AwsJsonError parse_aws_json_error(const UpstreamResponse& response);

// GetParameter: Parameter.Value. kUpstreamFailed when the answer lacks it.
Result<std::string> parse_get_parameter(const std::string& body);

// GetSecretValue: SecretString, or the bytes of SecretBinary (base64 in the answer).
Result<std::string> parse_get_secret_value(const std::string& body);

// "NAME_OR_ARN#json_key" → the id and the key ("" when none). ARNs hold ':' but never '#'.
struct SecretId {
  std::string id;
  std::string json_key;
};
SecretId split_secret_id(const std::string& reference_rest);

// The value of `key` in a JSON object SecretString: a string as it is, a number or
// boolean as its JSON text. kBadRequest naming the secret and key (never the value).
Result<std::string> pick_json_key(const std::string& secret_string, const std::string& key,
                                  const std::string& secret_name);

// The error for a non-200 answer: see Failure above. `what` names the object ("SSM
// parameter /x"); `not_found_type` is the service's own (ParameterNotFound, ...).
Error aws_json_failure(const std::string& what, const UpstreamResponse& response, const std::string& not_found_type);

// ---- the exchanges ----------------------------------------------------------------

class AwsJsonClient {
 public:
  AwsJsonClient(AwsJsonService service, std::string region, std::string endpoint,
                std::shared_ptr<CredentialsProvider> credentials, std::shared_ptr<UpstreamClient> http);

  // The signed request for `operation` with `json_body` (exposed for tests).
  UpstreamRequest build(const std::string& operation, const std::string& json_body, const AwsCredentials& credentials,
                        SystemTime now) const;
  // Sends it; transport failures and missing credentials are kUnavailable naming `what`.
  Result<UpstreamResponse> call(const std::string& operation, const std::string& json_body,
                                const std::string& what) const;

  const std::string& endpoint() const { return endpoint_; }
  const AwsJsonService& service() const { return service_; }

 private:
  AwsJsonService service_;
  std::string endpoint_;
  std::shared_ptr<CredentialsProvider> credentials_;
  std::shared_ptr<UpstreamClient> http_;
  SigV4Signer signer_;
};

// What scigate reads from AWS: a parameter (decrypted) and a secret.
class AwsConfigClients {
 public:
  // Clients for `env`'s region and endpoints, signed with the default chain. kBadRequest
  // when no region is set.
  static Result<AwsConfigClients> from_environment(const EnvLookup& env, std::shared_ptr<UpstreamClient> http);

  // SSM GetParameter with WithDecryption=true: the value.
  Result<std::string> get_parameter(const std::string& name) const;
  // Secrets Manager GetSecretValue: SecretString, or SecretBinary's bytes.
  Result<std::string> get_secret_value(const std::string& secret_id) const;

 private:
  AwsConfigClients(std::shared_ptr<AwsJsonClient> ssm, std::shared_ptr<AwsJsonClient> secrets)
      : ssm_(std::move(ssm)), secrets_(std::move(secrets)) {}
  std::shared_ptr<AwsJsonClient> ssm_;
  std::shared_ptr<AwsJsonClient> secrets_;
};

}  // namespace scigate
