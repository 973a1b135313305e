// Where scigate's config comes from: a file, or an SSM parameter (`ssm:/name`), with
// secrets that may live in Secrets Manager (`aws-secretsmanager:NAME_OR_ARN[#json_key]`),
// and the seed's drop-in (a parameter holding only `collections:` plus the environment of
// the seed's Lambda functions). Every command that takes --config loads through here, and
// the Lambda loop reloads through ConfigSource once the TTL has passed.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "awsconfig/aws_json.h"
#include "catalog/config.h"

namespace scigate {

inline constexpr std::string_view kSsmSpecPrefix = "ssm:";
// The seed's parameter: the spec when none is given but the seed's environment is there.
inline constexpr std::string_view kSeedConfigSpec = "ssm:/labcas/workflow/api/config";
inline constexpr std::chrono::milliseconds kDefaultConfigTtl{5 * 60'000};

struct LoadedConfig {
  Config config;
  // Hex SHA-256 over the YAML text and every resolved secret value: equal for two loads
  // exactly when nothing changed. Never print it (it would help guess short secrets).
  std::string fingerprint;
  bool seed_mode = false;  // built from the seed's environment (see seed_config_yaml)
};

// The spec a command uses: `given` (--config), else SCIGATE_CONFIG, else kSeedConfigSpec
// when MWAA_ENV_NAME is set (the seed's Lambda environment); nullopt when none applies.
std::optional<std::string> config_spec(const std::optional<std::string>& given, const EnvLookup& env = process_env());

// Seed mode. nullopt when `yaml` is not the seed's layout (a mapping with `collections:`
// alone): load it as it is. Otherwise the full config as YAML (the seed's text, then the
// sections the seed's environment implies: airflow engine over MWAA_ENV_NAME with
// mwaa-invoke-rest-api, an s3 provider `aws` for collections and staging in
// S3_BUCKET_STAGING, HS256 with aws-secretsmanager:$JWT_SECRET_KEY_ARN, issuer and
// audience LabCAS, ledger SCIGATE_LEDGER or sqlite:$TMPDIR/scigate/scigate.db, /tmp when TMPDIR is unset), or
// kBadRequest naming the seed variables that are not set.
std::optional<Result<std::string>> seed_config_yaml(const std::string& yaml, const EnvLookup& env);

// Loads and validates `spec`: a file path, or ssm:/parameter/name (the parameter's value
// is the YAML; relative paths resolve against the current folder; Config::file is the
// spec). Failure: kBadRequest whose `internal` is the problems, one "SPEC:LINE: KEY.PATH:
// REASON" line each; kNotFound for a missing parameter; kForbidden, kUnavailable as from
// AWS (aws_json.h). A missing secret is a problem of the key that references it.
Result<LoadedConfig> load_config_spec(const std::string& spec, const EnvLookup& env = process_env(),
                                      std::shared_ptr<UpstreamClient> http = nullptr);

// A spec loaded now and again after a TTL (the Lambda loop: once per execution
// environment, refreshed when the TTL has passed). Not thread-safe: one owner calls it.
class ConfigSource {
 public:
  using Clock = std::chrono::steady_clock;
  ConfigSource(std::string spec, std::chrono::milliseconds ttl, EnvLookup env = process_env());
  // The TTL from SCIGATE_CONFIG_TTL (a duration like 5m; default 5m). kBadRequest when it
  // is not a duration.
  static Result<ConfigSource> from_environment(std::string spec, const EnvLookup& env = process_env());

  // Loads now. A failed load counts as one too (due() waits a TTL before the next try),
  // and keeps the last fingerprint.
  Result<LoadedConfig> load(Clock::time_point now = Clock::now());
  // True once `ttl` has passed since the last load (or when nothing was loaded yet).
  bool due(Clock::time_point now = Clock::now()) const;
  // When due: loads again, and gives the config only when its fingerprint changed
  // (nullopt: not due, or unchanged). An error leaves the last config in force.
  Result<std::optional<LoadedConfig>> reload_if_changed(Clock::time_point now = Clock::now());

  const std::string& spec() const { return spec_; }
  std::chrono::milliseconds ttl() const { return ttl_; }
  const std::string& fingerprint() const { return fingerprint_; }  // "" before a successful load

 private:
  std::string spec_;
  std::chrono::milliseconds ttl_;
  EnvLookup env_;
  std::shared_ptr<UpstreamClient> http_;  // kept: reloads reuse its connections
  std::optional<Clock::time_point> loaded_at_;
  std::string fingerprint_;
};

}  // namespace scigate
