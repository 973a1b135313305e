#include "awsconfig/config_source.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "catalog/config_loader.h"
#include "core/duration.h"

namespace fs = std::filesystem;

namespace scigate {

std::optional<std::string> config_spec(const std::optional<std::string>& given, const EnvLookup& env) {
  if (given && !given->empty()) return given;
  if (auto v = env("SCIGATE_CONFIG"); !v.empty()) return v;
  if (!env("MWAA_ENV_NAME").empty()) return std::string(kSeedConfigSpec);
  return std::nullopt;
}

namespace {

constexpr const char* kSeedVariables[] = {"MWAA_ENV_NAME", "S3_BUCKET_STAGING", "JWT_SECRET_KEY_ARN", "REGION"};

bool is_seed_layout(const YAML::Node& root) { return root.IsMap() && root.size() == 1 && root["collections"]; }

YAML::Node default_chain() {
  YAML::Node c;
  c["type"] = "default";
  return c;
}

// The sections the seed's environment stands for, as a config would write them.
YAML::Node seed_sections(const EnvLookup& env) {
  const std::string region = env("REGION");
  YAML::Node out;
  YAML::Node jwt;
  jwt["algorithms"].push_back("HS256");
  jwt["secret"] = "aws-secretsmanager:" + env("JWT_SECRET_KEY_ARN");
  jwt["issuer"] = "LabCAS";
  jwt["audience"] = "LabCAS";
  out["auth"]["jwt"] = jwt;

  YAML::Node s3;
  s3["type"] = "s3";
  s3["region"] = region;
  if (auto endpoint = env("AWS_ENDPOINT_URL_S3"); !endpoint.empty()) s3["endpoint"] = endpoint;  // path-style then
  s3["credentials"] = default_chain();
  out["providers"]["aws"] = s3;
  out["default_provider"] = "aws";
  out["staging"]["provider"] = "aws";
  out["staging"]["bucket"] = env("S3_BUCKET_STAGING");

  YAML::Node auth;
  auth["type"] = "mwaa-invoke-rest-api";
  auth["environment"] = env("MWAA_ENV_NAME");
  auth["region"] = region;
  if (auto endpoint = env("AWS_ENDPOINT_URL_MWAA"); !endpoint.empty()) auth["mwaa_endpoint"] = endpoint;
  auth["credentials"] = default_chain();
  out["engine"]["type"] = "airflow";
  out["engine"]["auth"] = auth;

  // A ledger on a server needs its password and the instances' shared signing key, which
  // only references may hold: their variables, when set.
  // Without one, each function keeps its own file in its execution environment's /tmp
  // (TMPDIR when set): App::import_engine_runs brings in the runs other functions started.
  std::string tmp = env("TMPDIR").empty() ? "/tmp" : env("TMPDIR");
  std::string ledger = env("SCIGATE_LEDGER").empty() ? "sqlite:" + tmp + "/scigate/scigate.db" : env("SCIGATE_LEDGER");
  if (!env("SCIGATE_LEDGER_PASSWORD").empty()) {
    out["ledger"]["url"] = ledger;
    out["ledger"]["password"] = "env:SCIGATE_LEDGER_PASSWORD";
  } else {
    out["ledger"] = ledger;
  }
  if (!env("SCIGATE_SIGNING_KEY").empty()) out["server"]["signing_key"] = "env:SCIGATE_SIGNING_KEY";
  return out;
}

std::string emit(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return e.c_str();
}

// Reads `path`; nullopt when it cannot be read.
std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Error problems_error(const std::string& spec, const std::vector<ConfigProblem>& problems) {
  ConfigLoad load;
  load.problems = problems;
  std::string text = load.describe(spec);
  return {ErrorCode::kBadRequest, text, text};
}

// Length-prefixed pieces, so that two different sequences never hash alike.
void feed(Sha256& hash, std::string_view piece) {
  hash.update(std::to_string(piece.size()) + ":");
  hash.update(piece);
}

}  // namespace

std::optional<Result<std::string>> seed_config_yaml(const std::string& yaml, const EnvLookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception&) {
    return std::nullopt;  // the loader reports it, with its line
  }
  if (!is_seed_layout(root)) return std::nullopt;
  std::string missing;
  for (const char* name : kSeedVariables) {
    if (env(name).empty()) missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (!missing.empty()) {
    return Result<std::string>(
        Error::bad_request("the config holds only collections: (the seed's layout), which needs the seed's environment "
                           "(MWAA_ENV_NAME, S3_BUCKET_STAGING, JWT_SECRET_KEY_ARN, REGION); not set: " +
                           missing));
  }
  YAML::Node sections = seed_sections(env);
  // Appended as text so that the lines of problems in collections: stay the seed's; a
  // flow-style document cannot be appended to, and is written out whole instead.
  if (root.Style() == YAML::EmitterStyle::Flow) {
    for (const auto& kv : sections) root[kv.first.Scalar()] = kv.second;
    return Result<std::string>(emit(root) + "\n");
  }
  std::string text = yaml;
  if (!text.empty() && text.back() != '\n') text += '\n';
  return Result<std::string>(text + "# seed mode: from the environment\n" + emit(sections) + "\n");
}

Result<LoadedConfig> load_config_spec(const std::string& spec, const EnvLookup& env,
                                      std::shared_ptr<UpstreamClient> http) {
  if (!http) http = std::make_shared<UpstreamClient>();
  // Built once per load when something needs AWS, never for a file with env:/file: only.
  std::optional<AwsConfigClients> aws;
  auto clients = [&]() -> Result<const AwsConfigClients*> {
    if (!aws) {
      auto made = AwsConfigClients::from_environment(env, http);
      if (!made) return made.error();
      aws.emplace(std::move(made).value());
    }
    return &*aws;
  };

  std::string yaml;
  fs::path file, base;
  if (spec.rfind(kSsmSpecPrefix, 0) == 0) {
    std::string name = spec.substr(kSsmSpecPrefix.size());
    if (name.empty()) return Error::bad_request(spec + ": ssm: needs a parameter name, e.g. ssm:/scigate/config");
    auto c = clients();
    if (!c) return Error{c.error().code, spec + ": " + c.error().internal, spec + ": " + c.error().client};
    auto value = (*c)->get_parameter(name);
    if (!value) return value.error();
    yaml = std::move(value).value();
    file = spec;
    base = fs::current_path();
  } else {
    file = fs::absolute(spec);
    base = file.parent_path();
    auto text = read_text(file);
    if (!text) return problems_error(spec, {{"", 0, "cannot read config file"}});
    yaml = std::move(*text);
  }

  bool seed = false;
  if (auto full = seed_config_yaml(yaml, env)) {
    if (!*full) return problems_error(spec, {{"", 0, full->error().client}});
    yaml = std::move(full->value());
    seed = true;
  }

  Sha256 hash;
  feed(hash, yaml);
  // One GetSecretValue per secret and load, however many keys of it the config picks.
  std::map<std::string, Secret> fetched;  // Secret: wiped when the load ends
  SecretResolver resolver;
  resolver.schemes["aws-secretsmanager"] = [&](const std::string& rest) -> Result<std::string> {
    SecretId id = split_secret_id(rest);
    if (id.id.empty()) return Error::bad_request("aws-secretsmanager: needs a secret name or ARN");
    auto it = fetched.find(id.id);
    if (it == fetched.end()) {
      auto c = clients();
      if (!c) return c.error();
      auto value = (*c)->get_secret_value(id.id);
      if (!value) {
        Error e = value.error();
        e.client = e.internal;  // it names the secret and AWS's reason, never a value; the config problem shows it
        return e;
      }
      it = fetched.emplace(id.id, Secret(id.id, std::move(value).value())).first;
    }
    if (id.json_key.empty()) return it->second.value();
    return pick_json_key(it->second.value(), id.json_key, id.id);
  };
  resolver.observe = [&](const std::string& reference, const std::string& value) {
    feed(hash, reference);
    feed(hash, value);
  };

  ConfigLoad load = load_config_text(yaml, file, base, &resolver);
  if (!load.problems.empty()) return problems_error(spec, load.problems);
  return LoadedConfig{std::move(*load.config), hash.hex_digest(), seed};
}

ConfigSource::ConfigSource(std::string spec, std::chrono::milliseconds ttl, EnvLookup env)
    : spec_(std::move(spec)), ttl_(ttl), env_(std::move(env)), http_(std::make_shared<UpstreamClient>()) {}

Result<ConfigSource> ConfigSource::from_environment(std::string spec, const EnvLookup& env) {
  std::chrono::milliseconds ttl = kDefaultConfigTtl;
  if (auto text = env("SCIGATE_CONFIG_TTL"); !text.empty()) {
    auto parsed = parse_duration(text);
    if (!parsed) return Error::bad_request("SCIGATE_CONFIG_TTL must be a duration like 30s or 5m, not '" + text + "'");
    ttl = *parsed;
  }
  return ConfigSource(std::move(spec), ttl, env);
}

Result<LoadedConfig> ConfigSource::load(Clock::time_point now) {
  loaded_at_ = now;
  auto loaded = load_config_spec(spec_, env_, http_);
  if (loaded) fingerprint_ = loaded->fingerprint;
  return loaded;
}

bool ConfigSource::due(Clock::time_point now) const { return !loaded_at_ || now - *loaded_at_ >= ttl_; }

Result<std::optional<LoadedConfig>> ConfigSource::reload_if_changed(Clock::time_point now) {
  if (!due(now)) return std::optional<LoadedConfig>();
  std::string before = fingerprint_;
  auto loaded = load(now);
  if (!loaded) return loaded.error();
  if (loaded->fingerprint == before) return std::optional<LoadedConfig>();
  return std::optional<LoadedConfig>(std::move(loaded).value());
}

}  // namespace scigate
