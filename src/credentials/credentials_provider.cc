#include "credentials/credentials_provider.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/ini.h"
#include "credentials/rotating.h"
#include "credentials/sources.h"
#include "http/upstream.h"

namespace scigate {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::filesystem::path default_shared_file() {
  if (auto f = env("AWS_SHARED_CREDENTIALS_FILE"); !f.empty()) return f;
  if (auto home = env("HOME"); !home.empty()) return std::filesystem::path(home) / ".aws/credentials";
  return {};
}

}  // namespace

Result<CredentialsPtr> DefaultChainCredentials::current() {
  std::lock_guard lock(mu_);
  if (resolved_) return resolved_;
  if (auto id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY"); !id.empty() && !secret.empty()) {
    resolved_ =
        std::make_shared<const AwsCredentials>(AwsCredentials{id, secret, env("AWS_SESSION_TOKEN"), std::nullopt});
    source_ = "environment";
    return resolved_;
  }
  std::filesystem::path file = shared_file_.empty() ? default_shared_file() : shared_file_;
  std::string profile = !profile_.empty() ? profile_ : (env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE"));
  std::ifstream in(file);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto sections = parse_ini(ss.str());
    auto it = sections.find(profile);
    if (it != sections.end() && it->second.count("aws_access_key_id") && it->second.count("aws_secret_access_key")) {
      const auto& s = it->second;
      resolved_ = std::make_shared<const AwsCredentials>(
          AwsCredentials{s.at("aws_access_key_id"), s.at("aws_secret_access_key"),
                         s.count("aws_session_token") ? s.at("aws_session_token") : "", std::nullopt});
      source_ = "shared credentials file, profile " + profile;
      return resolved_;
    }
  }
  std::string msg = "no AWS credentials for provider '" + provider_ + "'";
  return Error{ErrorCode::kUnavailable,
               msg + " (looked in the environment and " + file.string() + " profile " + profile + ")", msg};
}

std::string DefaultChainCredentials::describe() const {
  return source_.empty() ? "default (not resolved yet)" : "default (" + source_ + ")";
}

Result<std::shared_ptr<CredentialsProvider>> make_credentials(const std::string& provider, const CredentialsConfig& c,
                                                              std::shared_ptr<UpstreamClient> http) {
  RotationPolicy rotation;
  rotation.refresh_every = c.refresh_every;
  rotation.refresh_margin = c.refresh_margin;
  rotation.prefetch = c.prefetch;
  rotation.max_backoff = c.retry_backoff_max;
  rotation.min_backoff = std::min(rotation.min_backoff, c.retry_backoff_max);
  if (c.type == "static") {
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentials>(
        AwsCredentials{c.access_key_id, c.secret_access_key ? c.secret_access_key->value() : "",
                       c.session_token ? c.session_token->value() : "", std::nullopt}));
  }
  if (c.type == "default") {
    return std::shared_ptr<CredentialsProvider>(
        std::make_shared<DefaultChainCredentials>(provider, c.profile, c.shared_credentials_file));
  }
  if (c.type == "earthdata-s3credentials") {
    EarthdataS3Credentials::Options o{c.url, c.token ? c.token->value() : "", c.username ? c.username->value() : "",
                                      c.password ? c.password->value() : "", c.login_host};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<RotatingCredentials>(
        provider, std::make_unique<EarthdataS3Credentials>(provider, std::move(o), std::move(http)), rotation));
  }
  if (c.type == "sts-assume-role" && c.base) {
    auto base = make_credentials(provider, *c.base, http);
    if (!base) return base.error();
    // The base credentials rotate on their own if they are of a rotating kind.
    if (auto* rotating = dynamic_cast<RotatingCredentials*>(base->get())) rotating->start();
    StsAssumeRole::Options o{c.role_arn,         c.session_name, c.external_id,
                             c.duration_seconds, c.sts_region,   c.sts_endpoint};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<RotatingCredentials>(
        provider, std::make_unique<StsAssumeRole>(provider, std::move(o), std::move(base).value(), std::move(http)),
        rotation));
  }
  return Error::internal_error("provider " + provider + ": unsupported credentials type " + c.type);
}

Result<CredentialsMap> make_provider_credentials(const Config& config) {
  CredentialsMap out;
  for (const auto& [name, p] : config.providers) {
    if (p.type != "s3") continue;
    auto creds =
        make_credentials(name, p.credentials, std::make_shared<UpstreamClient>(UpstreamOptions{p.connect_timeout}));
    if (!creds) return creds.error();
    out[name] = std::move(creds).value();
  }
  return out;
}

}  // namespace scigate
