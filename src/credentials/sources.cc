#include "credentials/sources.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "core/base64.h"
#include "core/ini.h"
#include "core/json_util.h"
#include "core/key_path.h"

namespace json = boost::json;

namespace scigate {

namespace {

constexpr int kMaxRedirects = 10;

std::string resolve_location(const std::string& current, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (!location.empty() && location.front() == '/') return url_origin(current).origin + location;
  return current.substr(0, current.rfind('/') + 1) + location;
}

// Cookies by host: enough for a login redirect chain (no paths, no expiry).
class CookieJar {
 public:
  void take(const std::string& host, const UpstreamResponse& r) {
    for (auto& [name, value] : r.cookies()) jar_[host][name] = std::move(value);
  }
  std::string header(const std::string& host) const {
    auto it = jar_.find(host);
    if (it == jar_.end()) return "";
    std::string out;
    for (const auto& [k, v] : it->second) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
  }

 private:
  std::map<std::string, std::map<std::string, std::string>> jar_;
};

std::string host_without_port(const std::string& host) { return host.substr(0, host.rfind(':')); }

}  // namespace

Result<AwsCredentials> parse_earthdata_credentials(const std::string& body) {
  auto parsed = parse_json(body);
  if (!parsed || !parsed->is_object()) {
    return Error{ErrorCode::kUpstreamFailed, "s3credentials answered something that is not a JSON object", ""};
  }
  const auto& o = parsed->get_object();
  AwsCredentials c{string_or(o, "accessKeyId"), string_or(o, "secretAccessKey"), string_or(o, "sessionToken"),
                   parse_iso8601(string_or(o, "expiration"))};
  if (c.access_key_id.empty() || c.secret_access_key.empty() || !c.expiration) {
    return Error{ErrorCode::kUpstreamFailed,
                 "s3credentials answer lacks accessKeyId, secretAccessKey or a readable expiration", ""};
  }
  return c;
}

StsAnswer parse_sts_answer(const std::string& body, const std::string& action) {
  pugi::xml_document doc;
  doc.load_string(body.c_str());
  auto c = doc.child((action + "Response").c_str()).child((action + "Result").c_str()).child("Credentials");
  return StsAnswer{{c.child_value("AccessKeyId"), c.child_value("SecretAccessKey"), c.child_value("SessionToken"),
                    parse_iso8601(c.child_value("Expiration"))},
                   doc.child("ErrorResponse").child("Error").child_value("Code")};
}

std::optional<AwsCredentials> parse_metadata_credentials(const std::string& body) {
  auto v = parse_json(body);
  if (!v || !v->is_object()) return std::nullopt;
  const auto& o = v->get_object();
  AwsCredentials c{string_or(o, "AccessKeyId"), string_or(o, "SecretAccessKey"), string_or(o, "Token"),
                   parse_iso8601(string_or(o, "Expiration"))};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

Error EarthdataS3Credentials::failed(const std::string& internal) const {
  return Error{ErrorCode::kUpstreamFailed, "provider " + provider_ + ": " + internal,
               "credentials endpoint of provider '" + provider_ + "' failed"};
}

Result<AwsCredentials> EarthdataS3Credentials::fetch() {
  CookieJar cookies;
  std::string url = options_.url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::string host = url_origin(url).authority;
    UpstreamRequest req;
    req.url = url;
    req.timeout = std::chrono::seconds(30);
    if (!options_.token.empty() && hop == 0) {
      req.headers.emplace_back("Authorization", "Bearer " + options_.token);
    } else if (options_.token.empty() &&
               (host == options_.login_host || host_without_port(host) == options_.login_host)) {
      // The password goes to the login host and nowhere else.
      req.headers.emplace_back("Authorization", "Basic " + base64_encode(options_.username + ":" + options_.password));
    }
    if (auto c = cookies.header(host); !c.empty()) req.headers.emplace_back("Cookie", c);
    auto r = http_->send(req);
    if (!r) {
      Error e = r.error();
      e.internal = "provider " + provider_ + ": " + e.internal;
      e.client = "credentials endpoint of provider '" + provider_ + "' is unreachable or slow";
      return e;
    }
    cookies.take(host, *r);
    if (r->status >= 300 && r->status < 400 && !r->header("location").empty()) {
      url = resolve_location(url, r->header("location"));
      continue;
    }
    if (r->status != 200) return failed("s3credentials answered " + std::to_string(r->status) + " at " + host);
    auto c = parse_earthdata_credentials(r->body);
    if (!c) return failed(c.error().internal);
    return c;
  }
  return failed("too many redirects");
}

StsAssumeRole::StsAssumeRole(std::string provider, Options options, std::shared_ptr<CredentialsProvider> base,
                             std::shared_ptr<UpstreamClient> http)
    : provider_(std::move(provider)),
      options_(std::move(options)),
      base_(std::move(base)),
      http_(std::move(http)),
      signer_(options_.region, "sts") {}

Result<AwsCredentials> StsAssumeRole::fetch() {
  auto base = base_->current();
  if (!base) return base.error();
  std::string endpoint =
      options_.endpoint.empty() ? "https://sts." + options_.region + ".amazonaws.com" : options_.endpoint;
  std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=" + percent_encode(options_.role_arn, false) +
                     "&RoleSessionName=" + percent_encode(options_.session_name, false) +
                     "&DurationSeconds=" + std::to_string(options_.duration_seconds);
  if (!options_.external_id.empty()) body += "&ExternalId=" + percent_encode(options_.external_id, false);
  SignableRequest sr;
  sr.method = "POST";
  sr.headers = {{"Host", url_origin(endpoint).authority}, {"Content-Type", "application/x-www-form-urlencoded"}};
  sr.payload_hash = sha256_hex(body);
  signer_.sign(sr, **base, std::chrono::system_clock::now());
  auto r = http_->send({"POST", endpoint + "/", sr.headers, body, std::nullopt, std::chrono::seconds(30)});
  auto fail = [&](const std::string& internal) {
    return Error{ErrorCode::kUpstreamFailed, "provider " + provider_ + ": STS " + internal,
                 "STS AssumeRole for provider '" + provider_ + "' failed"};
  };
  if (!r) return fail(r.error().internal);
  StsAnswer answer = parse_sts_answer(r->body, "AssumeRole");
  if (r->status != 200) return fail(std::to_string(r->status) + " " + answer.error_code);
  AwsCredentials& c = answer.credentials;
  if (c.access_key_id.empty() || c.secret_access_key.empty() || !c.expiration) return fail("answer lacks credentials");
  return c;
}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::optional<AwsCredentials> DefaultChainSource::from_environment() {
  auto id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (id.empty() || secret.empty()) return std::nullopt;
  return AwsCredentials{id, secret, env("AWS_SESSION_TOKEN"), std::nullopt};
}

Result<std::optional<AwsCredentials>> DefaultChainSource::from_web_identity() {
  auto token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), role = env("AWS_ROLE_ARN");
  if (token_file.empty() || role.empty()) return std::optional<AwsCredentials>();
  std::string token = read_file(token_file);
  if (token.empty()) return Error::internal_error("web identity token file " + token_file + " is empty");
  std::string region = env("AWS_REGION").empty() ? "us-east-1" : env("AWS_REGION");
  std::string endpoint =
      env("AWS_ENDPOINT_URL_STS").empty() ? "https://sts." + region + ".amazonaws.com" : env("AWS_ENDPOINT_URL_STS");
  std::string session = env("AWS_ROLE_SESSION_NAME").empty() ? "scigate" : env("AWS_ROLE_SESSION_NAME");
  // AssumeRoleWithWebIdentity is not signed: the token is the proof.
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + percent_encode(role, false) +
                     "&RoleSessionName=" + percent_encode(session, false) +
                     "&WebIdentityToken=" + percent_encode(token, false);
  auto r = http_->send({"POST",
                        endpoint + "/",
                        {{"Content-Type", "application/x-www-form-urlencoded"}},
                        body,
                        std::nullopt,
                        std::chrono::seconds(10)});
  if (!r) return r.error();
  AwsCredentials out = parse_sts_answer(r->body, "AssumeRoleWithWebIdentity").credentials;
  if (r->status != 200 || out.access_key_id.empty()) {
    return Error::internal_error("AssumeRoleWithWebIdentity answered " + std::to_string(r->status));
  }
  return std::optional<AwsCredentials>(std::move(out));
}

std::optional<AwsCredentials> DefaultChainSource::from_shared_file() {
  std::filesystem::path file = shared_file_;
  if (file.empty()) file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = std::filesystem::path(env("HOME")) / ".aws/credentials";
  std::string profile = !profile_.empty() ? profile_ : (env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE"));
  auto sections = parse_ini(read_file(file));
  auto it = sections.find(profile);
  if (it == sections.end() || !it->second.count("aws_access_key_id") || !it->second.count("aws_secret_access_key")) {
    return std::nullopt;
  }
  const auto& s = it->second;
  return AwsCredentials{s.at("aws_access_key_id"), s.at("aws_secret_access_key"),
                        s.count("aws_session_token") ? s.at("aws_session_token") : "", std::nullopt};
}

Result<std::optional<AwsCredentials>> DefaultChainSource::from_container() {
  std::string uri = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (uri.empty() && !env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty()) {
    uri = "http://169.254.170.2" + env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  }
  if (uri.empty()) return std::optional<AwsCredentials>();
  UpstreamRequest req;
  req.url = uri;
  req.timeout = std::chrono::seconds(5);
  std::string auth = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (!env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").empty())
    auth = read_file(env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
  if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
  auto r = http_->send(req);
  if (!r) return r.error();
  auto c = r->status == 200 ? parse_metadata_credentials(r->body) : std::nullopt;
  if (!c) return Error::internal_error("container credentials endpoint answered " + std::to_string(r->status));
  return c;
}

Result<std::optional<AwsCredentials>> DefaultChainSource::from_instance_metadata() {
  if (env("AWS_EC2_METADATA_DISABLED") == "true") return std::optional<AwsCredentials>();
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").empty() ? "http://169.254.169.254"
                                                                      : env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto token = http_->send({"PUT",
                            base + "/latest/api/token",
                            {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                            "",
                            std::nullopt,
                            std::chrono::seconds(2)});
  if (!token || token->status != 200) return std::optional<AwsCredentials>();  // not on EC2
  UpstreamHeaders h{{"X-aws-ec2-metadata-token", token->body}};
  std::string path = base + "/latest/meta-data/iam/security-credentials/";
  auto role = http_->send({"GET", path, h, "", std::nullopt, std::chrono::seconds(2)});
  if (!role || role->status != 200 || role->body.empty()) return std::optional<AwsCredentials>();
  std::string name = role->body.substr(0, role->body.find('\n'));
  auto creds = http_->send({"GET", path + name, h, "", std::nullopt, std::chrono::seconds(2)});
  if (!creds) return creds.error();
  auto c = creds->status == 200 ? parse_metadata_credentials(creds->body) : std::nullopt;
  if (!c) return Error::internal_error("instance metadata answered " + std::to_string(creds->status));
  return c;
}

Result<AwsCredentials> DefaultChainSource::fetch() {
  auto answer = [&](const char* by, AwsCredentials c) -> Result<AwsCredentials> {
    std::lock_guard lock(mu_);
    answered_by_ = by;
    return c;
  };
  if (auto c = from_environment()) return answer("environment", std::move(*c));
  std::string tried;
  auto attempt = [&](const char* name, Result<std::optional<AwsCredentials>> r) -> std::optional<AwsCredentials> {
    if (!r) {
      tried += std::string(tried.empty() ? "" : "; ") + name + ": " + r.error().internal;
      return std::nullopt;
    }
    return std::move(r).value();
  };
  if (auto c = attempt("web identity", from_web_identity())) return answer("web identity", std::move(*c));
  if (auto c = from_shared_file()) return answer("shared credentials file", std::move(*c));
  if (auto c = attempt("container", from_container())) return answer("container", std::move(*c));
  if (auto c = attempt("instance metadata", from_instance_metadata()))
    return answer("instance metadata", std::move(*c));
  std::string msg = "no AWS credentials for provider '" + provider_ + "'";
  return Error{ErrorCode::kUnavailable,
               msg + " (environment, web identity, shared file, container, instance metadata" +
                   (tried.empty() ? "" : "; " + tried) + ")",
               msg};
}

std::string DefaultChainSource::describe() const {
  std::lock_guard lock(mu_);
  return answered_by_.empty() ? "default" : "default (" + answered_by_ + ")";
}

}  // namespace scigate
