#include "credentials/credentials_provider.h"

#include "credentials/rotating.h"
#include "credentials/sources.h"
#include "http_client/upstream.h"

namespace scigate {

namespace {

RotationPolicy rotation_policy(const RotationConfig& c) {
  RotationPolicy rotation;
  rotation.refresh_every = c.refresh_every;
  rotation.refresh_margin = c.refresh_margin;
  rotation.prefetch = c.prefetch;
  rotation.max_backoff = c.retry_backoff_max;
  rotation.min_backoff = std::min(rotation.min_backoff, c.retry_backoff_max);
  return rotation;
}

// One builder per CredentialsBackend alternative (config.h's kCredentialTypes).
struct Builder {
  const std::string& provider;
  std::shared_ptr<UpstreamClient> http;

  Result<std::shared_ptr<CredentialsProvider>> operator()(const StaticCredentialsConfig& c) const {
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentials>(
        AwsCredentials{c.access_key_id, c.secret_access_key ? c.secret_access_key->value() : "",
                       c.session_token ? c.session_token->value() : "", std::nullopt}));
  }
  Result<std::shared_ptr<CredentialsProvider>> operator()(const DefaultChainCredentialsConfig& c) const {
    return std::shared_ptr<CredentialsProvider>(std::make_shared<RotatingCredentials>(
        provider, std::make_unique<DefaultChainSource>(provider, c.profile, c.shared_credentials_file, http),
        rotation_policy({})));
  }
  Result<std::shared_ptr<CredentialsProvider>> operator()(const EarthdataCredentialsConfig& c) const {
    EarthdataS3Credentials::Options o{c.url, c.token ? c.token->value() : "", c.username ? c.username->value() : "",
                                      c.password ? c.password->value() : "", c.login_host};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<RotatingCredentials>(
        provider, std::make_unique<EarthdataS3Credentials>(provider, std::move(o), http), rotation_policy(c.rotation)));
  }
  Result<std::shared_ptr<CredentialsProvider>> operator()(const AssumeRoleCredentialsConfig& c) const {
    if (!c.base) return Error::internal_error("provider " + provider + ": sts-assume-role without base credentials");
    auto base = make_credentials(provider, *c.base, http);
    if (!base) return base.error();
    // The base is started and stopped with the role's credentials (StsAssumeRole::start).
    StsAssumeRole::Options o{c.role_arn,         c.session_name, c.external_id,
                             c.duration_seconds, c.sts_region,   c.sts_endpoint};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<RotatingCredentials>(
        provider, std::make_unique<StsAssumeRole>(provider, std::move(o), std::move(base).value(), http),
        rotation_policy(c.rotation)));
  }
};

}  // namespace

Result<std::shared_ptr<CredentialsProvider>> make_credentials(const std::string& provider, const CredentialsConfig& c,
                                                              std::shared_ptr<UpstreamClient> http) {
  return std::visit(Builder{provider, std::move(http)}, c.backend);
}

Result<CredentialsMap> make_provider_credentials(const Config& config) {
  CredentialsMap out;
  for (const auto& [name, p] : config.providers) {
    const auto* s3 = p.s3();
    if (!s3) continue;
    auto creds =
        make_credentials(name, s3->credentials, std::make_shared<UpstreamClient>(UpstreamOptions{s3->connect_timeout}));
    if (!creds) return creds.error();
    out[name] = std::move(creds).value();
  }
  return out;
}

}  // namespace scigate
