#include "awsconfig/aws_json.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "core/base64.h"
#include "core/json_util.h"
#include "credentials/sources.h"

namespace scigate {

const AwsJsonService kSsmService{"ssm", "AmazonSSM", "AWS_ENDPOINT_URL_SSM", "SSM"};
const AwsJsonService kSecretsManagerService{"secretsmanager", "secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                                            "Secrets Manager"};

EnvLookup process_env() {
  return [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v ? v : "");
  };
}

std::string aws_region(const EnvLookup& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION", "REGION"}) {
    if (auto v = env(name); !v.empty()) return v;
  }
  return "";
}

std::string aws_endpoint(const AwsJsonService& service, const std::string& region, const EnvLookup& env) {
  std::string url = env(service.endpoint_env);
  if (url.empty()) url = env("AWS_ENDPOINT_URL");
  if (url.empty()) url = "https://" + service.signing_name + "." + region + ".amazonaws.com";
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

namespace {

// "com.amazonaws.ssm#ParameterNotFound" or "ParameterNotFound:http://..." → "ParameterNotFound".
std::string short_type(std::string type) {
  if (auto hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
  if (auto colon = type.find(':'); colon != std::string::npos) type.erase(colon);
  return type;
}

// The default chain, asked on first use and kept for the clients' life (one load). No
// rotation: a load takes seconds, and the next load asks again.
class ChainOnce final : public CredentialsProvider {
 public:
  explicit ChainOnce(std::shared_ptr<UpstreamClient> http) : source_("aws-config", "", "", std::move(http)) {}
  Result<CredentialsPtr> current() override {
    std::lock_guard lock(mu_);
    if (!credentials_) {
      auto fetched = source_.fetch();
      if (!fetched) return fetched.error();
      credentials_ = std::make_shared<const AwsCredentials>(std::move(fetched).value());
    }
    return credentials_;
  }
  std::string describe() const override { return source_.describe(); }

 private:
  std::mutex mu_;
  DefaultChainSource source_;
  CredentialsPtr credentials_;
};

Error answer_failed(const std::string& what, const std::string& reason) {
  return {ErrorCode::kUpstreamFailed, what + ": " + reason, what + ": unusable answer"};
}

}  // namespace

AwsJsonError parse_aws_json_error(const UpstreamResponse& response) {
  AwsJsonError out;
  out.type = short_type(response.header("x-amzn-errortype"));
  auto json = parse_json(response.body);
  if (json && json->is_object()) {
    const auto& obj = json->get_object();
    if (out.type.empty()) out.type = short_type(string_or(obj, "__type"));
    out.message = string_or(obj, "message", string_or(obj, "Message"));
  }
  return out;
}

Result<std::string> parse_get_parameter(const std::string& body) {
  auto json = parse_json(body);
  if (!json || !json->is_object()) return answer_failed("SSM GetParameter", "answer is not a JSON object");
  const auto* param = json->get_object().if_contains("Parameter");
  if (!param || !param->is_object()) return answer_failed("SSM GetParameter", "answer lacks Parameter");
  const auto* value = param->get_object().if_contains("Value");
  if (!value || !value->is_string()) return answer_failed("SSM GetParameter", "answer lacks Parameter.Value");
  return std::string(value->get_string());
}

Result<std::string> parse_get_secret_value(const std::string& body) {
  auto json = parse_json(body);
  if (!json || !json->is_object()) return answer_failed("GetSecretValue", "answer is not a JSON object");
  const auto& obj = json->get_object();
  if (const auto* s = obj.if_contains("SecretString"); s && s->is_string()) return std::string(s->get_string());
  if (const auto* b = obj.if_contains("SecretBinary"); b && b->is_string()) {
    std::string bytes;
    if (!base64_decode(b->get_string(), bytes)) return answer_failed("GetSecretValue", "SecretBinary is not base64");
    return bytes;
  }
  return answer_failed("GetSecretValue", "answer has neither SecretString nor SecretBinary");
}

SecretId split_secret_id(const std::string& rest) {
  auto hash = rest.rfind('#');
  if (hash == std::string::npos) return {rest, ""};
  return {rest.substr(0, hash), rest.substr(hash + 1)};
}

Result<std::string> pick_json_key(const std::string& secret_string, const std::string& key,
                                  const std::string& secret_name) {
  auto json = parse_json(secret_string);
  if (!json || !json->is_object()) {
    return Error::bad_request("secret '" + secret_name + "' is not a JSON object, so it has no key '" + key + "'");
  }
  const auto* v = json->get_object().if_contains(key);
  if (!v) return Error::bad_request("secret '" + secret_name + "' has no key '" + key + "'");
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_number() || v->is_bool()) return to_json_text(*v);
  return Error::bad_request("key '" + key + "' of secret '" + secret_name + "' is not a string, number or boolean");
}

Error aws_json_failure(const std::string& what, const UpstreamResponse& response, const std::string& not_found_type) {
  AwsJsonError e = parse_aws_json_error(response);
  // "SSM parameter /x: not found (HTTP 400 ParameterNotFound: message)": what, then why.
  std::string answer = "HTTP " + std::to_string(response.status) + (e.type.empty() ? "" : " " + e.type) +
                       (e.message.empty() ? "" : ": " + e.message);
  auto error = [&](ErrorCode code, const std::string& verdict) {
    return Error{code, what + ": " + verdict + " (" + answer + ")",
                 what + ": " + verdict + (e.type.empty() ? "" : " (" + e.type + ")")};
  };
  if (!not_found_type.empty() && e.type == not_found_type) return error(ErrorCode::kNotFound, "not found");
  static const char* kBusy[] = {"ThrottlingException", "InternalServerError", "InternalServiceError", "InternalFailure",
                                "ServiceUnavailable"};
  if (response.status == 429 || response.status >= 500 ||
      std::find(std::begin(kBusy), std::end(kBusy), e.type) != std::end(kBusy)) {
    return error(ErrorCode::kUnavailable, "AWS unavailable");
  }
  static const char* kRefusals[] = {"AccessDeniedException",       "AccessDenied",
                                    "UnrecognizedClientException", "InvalidSignatureException",
                                    "IncompleteSignature",         "SignatureDoesNotMatch",
                                    "ExpiredTokenException",       "InvalidClientTokenId",
                                    "MissingAuthenticationToken",  "MissingAuthenticationTokenException",
                                    "KMSAccessDeniedException"};
  if (response.status == 403 || std::find(std::begin(kRefusals), std::end(kRefusals), e.type) != std::end(kRefusals))
    return error(ErrorCode::kForbidden, "refused by AWS");
  return error(ErrorCode::kUpstreamFailed, "AWS error");
}

AwsJsonClient::AwsJsonClient(AwsJsonService service, std::string region, std::string endpoint,
                             std::shared_ptr<CredentialsProvider> credentials, std::shared_ptr<UpstreamClient> http)
    : service_(std::move(service)),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      http_(std::move(http)),
      signer_(std::move(region), service_.signing_name) {}

UpstreamRequest AwsJsonClient::build(const std::string& operation, const std::string& json_body,
                                     const AwsCredentials& credentials, SystemTime now) const {
  // An endpoint's own path is not part of these services' URLs: requests go to its origin.
  UrlOrigin origin = url_origin(endpoint_);
  SignableRequest sr;
  sr.method = "POST";
  sr.headers = {{"Host", origin.authority},
                {"Content-Type", "application/x-amz-json-1.1"},
                {"X-Amz-Target", service_.target_prefix + "." + operation}};
  sr.payload_hash = sha256_hex(json_body);
  signer_.sign(sr, credentials, now);
  UpstreamRequest r;
  r.method = "POST";
  r.url = origin.origin + "/";
  r.headers = std::move(sr.headers);
  r.body = json_body;
  r.timeout = std::chrono::seconds(10);
  return r;
}

Result<UpstreamResponse> AwsJsonClient::call(const std::string& operation, const std::string& json_body,
                                             const std::string& what) const {
  auto creds = credentials_->current();
  if (!creds) {
    return Error{ErrorCode::kUnavailable, what + ": no AWS credentials: " + creds.error().internal,
                 what + ": no AWS credentials"};
  }
  auto r = http_->send(build(operation, json_body, **creds, std::chrono::system_clock::now()));
  if (!r) {
    return Error{ErrorCode::kUnavailable, what + ": " + service_.display + " unreachable: " + r.error().internal,
                 what + ": " + service_.display + " unreachable"};
  }
  return r;
}

Result<AwsConfigClients> AwsConfigClients::from_environment(const EnvLookup& env,
                                                            std::shared_ptr<UpstreamClient> http) {
  std::string region = aws_region(env);
  if (region.empty()) return Error::bad_request("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, REGION)");
  // Built per load: the default chain is cheap to ask (in Lambda it reads the environment)
  // and a fresh one never holds expired keys between two loads a TTL apart.
  auto credentials = std::make_shared<ChainOnce>(http);
  auto client = [&](const AwsJsonService& service) {
    return std::make_shared<AwsJsonClient>(service, region, aws_endpoint(service, region, env), credentials, http);
  };
  return AwsConfigClients(client(kSsmService), client(kSecretsManagerService));
}

Result<std::string> AwsConfigClients::get_parameter(const std::string& name) const {
  std::string what = "SSM parameter " + name;
  boost::json::object body{{"Name", name}, {"WithDecryption", true}};
  auto r = ssm_->call("GetParameter", to_json_text(body), what);
  if (!r) return r.error();
  if (r->status != 200) return aws_json_failure(what, *r, "ParameterNotFound");
  auto value = parse_get_parameter(r->body);
  if (!value) return Error{value.error().code, what + ": " + value.error().internal, what + ": unusable answer"};
  return value;
}

Result<std::string> AwsConfigClients::get_secret_value(const std::string& secret_id) const {
  std::string what = "Secrets Manager secret " + secret_id;
  boost::json::object body{{"SecretId", secret_id}};
  auto r = secrets_->call("GetSecretValue", to_json_text(body), what);
  if (!r) return r.error();
  if (r->status != 200) return aws_json_failure(what, *r, "ResourceNotFoundException");
  auto value = parse_get_secret_value(r->body);
  if (!value) return Error{value.error().code, what + ": " + value.error().internal, what + ": unusable answer"};
  return value;
}

}  // namespace scigate
