#include "catalog/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "catalog/yaml_json.h"
#include "core/duration.h"

namespace fs = std::filesystem;

namespace scigate {

namespace {

std::optional<uint64_t> parse_byte_size(const std::string& text) {
  static const std::pair<const char*, uint64_t> kUnits[] = {{"", 1},
                                                            {"B", 1},
                                                            {"KiB", 1ULL << 10},
                                                            {"MiB", 1ULL << 20},
                                                            {"GiB", 1ULL << 30},
                                                            {"TiB", 1ULL << 40},
                                                            {"KB", 1000},
                                                            {"MB", 1000'000},
                                                            {"GB", 1000'000'000}};
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) return std::nullopt;
  uint64_t number = std::stoull(text.substr(0, digits));
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      if (number > UINT64_MAX / factor) return std::nullopt;
      return number * factor;
    }
  }
  return std::nullopt;
}

// How the secrets of a config are resolved: by which resolver, relative to which folder.
struct SecretContext {
  const SecretResolver& resolver;
  fs::path base;
};

// Walks one YAML mapping, remembering which keys were read so that unknown keys can be
// reported, and reporting type problems with the full key path.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::vector<ConfigProblem>& problems)
      : node_(node), path_(std::move(path)), problems_(problems) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      problem("", "must be a mapping");
      valid_ = false;
    }
  }
  ~MapReader() { report_unknown(); }
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  bool present() const { return valid_ && node_ && node_.IsMap(); }
  bool has(const std::string& key) {
    known_.insert(key);
    return present() && node_[key] && !node_[key].IsNull();
  }
  YAML::Node raw(const std::string& key) {
    known_.insert(key);
    return present() ? node_[key] : YAML::Node();
  }
  std::string child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  int line_of(const std::string& key) const {
    if (!present() || !node_[key]) return node_ ? node_.Mark().line + 1 : 0;
    return node_[key].Mark().line + 1;
  }

  void problem(const std::string& key, const std::string& reason) {
    problems_.push_back({key.empty() ? path_ : child_path(key),
                         key.empty() ? (node_ ? node_.Mark().line + 1 : 0) : line_of(key), reason});
  }

  void string(const std::string& key, std::string& out, bool required = false) {
    if (!has(key)) {
      if (required) problem(key, "is required");
      return;
    }
    YAML::Node n = node_[key];
    if (!n.IsScalar()) return problem(key, "must be a string");
    out = n.Scalar();
  }
  void integer(const std::string& key, long long lo, long long hi, auto& out) {
    if (!has(key)) return;
    YAML::Node n = node_[key];
    long long v;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) return problem(key, "must be an integer");
    if (v < lo || v > hi) {
      return problem(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
  }
  void boolean(const std::string& key, bool& out) {
    if (!has(key)) return;
    YAML::Node n = node_[key];
    bool v;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return problem(key, "must be true or false");
    out = v;
  }
  void duration(const std::string& key, milliseconds& out) {
    if (!has(key)) return;
    YAML::Node n = node_[key];
    auto d = n.IsScalar() ? parse_duration(n.Scalar()) : std::nullopt;
    if (!d) return problem(key, "must be a duration like 30s, 10m or 1h");
    out = *d;
  }
  // An integer, or a number with a unit: 256MiB, 1GiB, 512KiB, 10MB.
  void byte_size(const std::string& key, uint64_t lo, uint64_t hi, uint64_t& out) {
    if (!has(key)) return;
    YAML::Node n = node_[key];
    auto v = n.IsScalar() ? parse_byte_size(n.Scalar()) : std::nullopt;
    if (!v) return problem(key, "must be a size like 256MiB or 1048576");
    if (*v < lo || *v > hi) {
      return problem(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + " bytes");
    }
    out = *v;
  }
  void string_list(const std::string& key, std::vector<std::string>& out) {
    if (!has(key)) return;
    YAML::Node n = node_[key];
    if (!n.IsSequence()) return problem(key, "must be a list of strings");
    out.clear();
    for (const auto& item : n) {
      if (!item.IsScalar()) return problem(key, "must be a list of strings");
      out.push_back(item.Scalar());
    }
  }
  void secret(const std::string& key, const SecretContext& secrets, std::optional<Secret>& out, bool required) {
    std::string ref;
    string(key, ref, required);
    if (ref.empty()) return;
    auto s = secrets.resolver.resolve(ref, secrets.base);
    if (!s) return problem(key, s.error().client);
    out = std::move(s).value();
  }
  void path(const std::string& key, const fs::path& base, fs::path& out) {
    std::string s;
    string(key, s);
    if (s.empty()) return;
    out = fs::path(s).is_relative() ? (base / s).lexically_normal() : fs::path(s);
  }

 private:
  void report_unknown() {
    if (!present()) return;
    for (const auto& kv : node_) {
      std::string k = kv.first.Scalar();
      if (!known_.count(k)) {
        problems_.push_back({child_path(k), kv.first.Mark().line + 1, "unknown key"});
      }
    }
  }

  YAML::Node node_;
  std::string path_;
  std::vector<ConfigProblem>& problems_;
  std::set<std::string> known_;
  bool valid_ = true;
};

// Iterates the entries of a mapping, each with its own reader. Non-mapping: a problem.
template <typename Fn>
void for_each_entry(MapReader& parent, const std::string& key, std::vector<ConfigProblem>& problems, Fn fn) {
  YAML::Node n = parent.raw(key);
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) return parent.problem(key, "must be a mapping");
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      parent.problem(key, "keys must be plain strings");
      continue;
    }
    std::string name = kv.first.Scalar();
    MapReader entry(kv.second, parent.child_path(key) + "." + name, problems);
    fn(name, entry);
  }
}

class Loader {
 public:
  Loader(const fs::path& file, const fs::path& base, const SecretResolver& resolver) : secrets_{resolver, base} {
    cfg_.file = file;
    cfg_.base_dir = base;
  }

  ConfigLoad run(const YAML::Node& root) {
    {
      MapReader top(root, "", problems_);
      if (!top.present() && root && !root.IsNull()) return finish();
      read_server(top);
      read_auth(top);
      read_providers(top);
      top.string("default_provider", cfg_.default_provider);
      read_staging(top);
      read_engine(top);
      read_ledger(top);
      read_raster(top);
      read_workflows(top);
      read_collections(top);
    }
    apply_defaults_and_cross_check();
    refuse_secrets_in_step_env(root);
    return finish();
  }

 private:
  void read_server(MapReader& top) {
    MapReader s(top.raw("server"), "server", problems_);
    auto& out = cfg_.server;
    std::string listen;
    s.string("listen", listen);
    if (!listen.empty()) parse_listen(s, listen);
    s.string("public_url", out.public_url);
    s.string_list("cors_allowed_origins", out.cors_allowed_origins);
    s.integer("max_body_bytes", 1, 1LL << 32, out.max_body_bytes);
    s.integer("max_header_bytes", 1024, 1 << 20, out.max_header_bytes);
    s.duration("read_timeout", out.read_timeout);
    s.duration("write_timeout", out.write_timeout);
    s.duration("idle_timeout", out.idle_timeout);
    s.duration("shutdown_grace", out.shutdown_grace);
    s.integer("io_threads", 1, 64, out.io_threads);
    s.integer("worker_threads", 1, 256, out.worker_threads);
    s.integer("worker_queue", 1, 1'000'000, out.worker_queue);
    s.integer("max_connections", 1, 10'000'000, out.max_connections);
    s.integer("max_buffered_response_bytes", 1 << 20, 1LL << 40, out.max_buffered_response_bytes);
    s.integer("max_event_streams", 0, 1'000'000, out.max_event_streams);
    s.duration("event_stream_lifetime", out.event_stream_lifetime);
    if (out.event_stream_lifetime < std::chrono::seconds(1)) s.problem("event_stream_lifetime", "must be at least 1s");
    s.string("log_level", out.log_level);
    s.secret("signing_key", secrets_, out.signing_key, false);
    if (out.signing_key && out.signing_key->value().size() < 32)
      s.problem("signing_key", "must be at least 32 characters long");
    static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.count(out.log_level)) s.problem("log_level", "must be one of trace, debug, info, warn, error, off");
  }

  void parse_listen(MapReader& s, const std::string& listen) {
    auto colon = listen.rfind(':');
    long port = -1;
    if (colon != std::string::npos) {
      try {
        port = std::stol(listen.substr(colon + 1));
      } catch (...) {
      }
    }
    if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
      return s.problem("listen", "must be HOST:PORT, e.g. 127.0.0.1:8080");
    }
    cfg_.server.host = listen.substr(0, colon);
    cfg_.server.port = static_cast<uint16_t>(port);
  }

  void read_auth(MapReader& top) {
    MapReader auth(top.raw("auth"), "auth", problems_);
    MapReader jwt(auth.raw("jwt"), "auth.jwt", problems_);
    auto& out = cfg_.jwt;
    jwt.string_list("algorithms", out.algorithms);
    for (const auto& alg : out.algorithms) {
      if (alg != "HS256" && alg != "HS384" && alg != "HS512") {
        jwt.problem("algorithms", "unsupported algorithm '" + alg + "' (supported: HS256, HS384, HS512)");
      }
    }
    if (out.algorithms.empty()) jwt.problem("algorithms", "must name at least one algorithm");
    std::optional<Secret> secret;
    jwt.secret("secret", secrets_, secret, /*required=*/true);
    if (secret) out.secret = std::move(*secret);
    jwt.string("issuer", out.issuer);
    jwt.string("audience", out.audience);
    jwt.string_list("username_claims", out.username_claims);
    if (out.username_claims.empty()) jwt.problem("username_claims", "must name at least one claim");
    jwt.duration("leeway", out.leeway);
    jwt.duration("max_token_lifetime", out.max_token_lifetime);
  }

  void read_providers(MapReader& top) {
    for_each_entry(top, "providers", problems_, [&](const std::string& name, MapReader& p) {
      ProviderConfig pc;
      pc.name = name;
      std::string type;
      p.string("type", type, true);
      if (type == "file") {
        FileProviderConfig& file = pc.backend.emplace<FileProviderConfig>();
        p.path("root", cfg_.base_dir, file.root);
        if (file.root.empty()) p.problem("root", "is required for a file provider");
        p.secret("signing_key", secrets_, file.signing_key, false);
      } else if (type == "s3") {
        read_s3_provider(p, pc.backend.emplace<S3ProviderConfig>());
      } else if (!type.empty()) {
        p.problem("type", "unsupported provider type '" + type + "' (supported: file, s3)");
      }
      cfg_.providers[name] = std::move(pc);
    });
  }

  void read_s3_provider(MapReader& p, S3ProviderConfig& pc) {
    p.string("region", pc.region, true);
    p.string("endpoint", pc.endpoint);
    if (!pc.endpoint.empty() && pc.endpoint.rfind("http://", 0) != 0 && pc.endpoint.rfind("https://", 0) != 0) {
      p.problem("endpoint", "must start with http:// or https://");
    }
    while (!pc.endpoint.empty() && pc.endpoint.back() == '/') pc.endpoint.pop_back();
    pc.path_style = !pc.endpoint.empty();
    p.boolean("path_style", pc.path_style);
    p.integer("multipart_threshold", 5LL << 20, 5LL << 30, pc.multipart_threshold);
    p.integer("part_size", 5LL << 20, 5LL << 30, pc.part_size);
    p.integer("max_retries", 0, 10, pc.max_retries);
    p.duration("connect_timeout", pc.connect_timeout);
    p.duration("request_timeout", pc.request_timeout);
    p.duration("max_presign_ttl", pc.max_presign_ttl);
    if (pc.max_presign_ttl > std::chrono::hours(24 * 7)) p.problem("max_presign_ttl", "may not exceed 7d (S3's limit)");
    MapReader c(p.raw("credentials"), p.child_path("credentials"), problems_);
    read_credentials(c, pc.credentials);
    default_sts_region(pc.credentials, pc.region);
  }

  void read_credentials(MapReader& c, CredentialsConfig& cc) {
    std::string type(cc.type());
    c.string("type", type);
    const auto* known = std::find(std::begin(kCredentialTypes), std::end(kCredentialTypes), type);
    if (known == std::end(kCredentialTypes)) {
      std::string names;
      for (auto name : kCredentialTypes) names += (names.empty() ? "" : ", ") + std::string(name);
      return c.problem("type", "unsupported credentials type '" + type + "' (supported: " + names + ")");
    }
    emplace_alternative(cc.backend, static_cast<size_t>(known - std::begin(kCredentialTypes)),
                        std::make_index_sequence<std::variant_size_v<CredentialsBackend>>());
    std::visit([&](auto& backend) { read_credentials_of(c, backend); }, cc.backend);
  }

  // Sets `v` to its alternative number `index`, default-constructed.
  template <size_t... I>
  static void emplace_alternative(CredentialsBackend& v, size_t index, std::index_sequence<I...>) {
    ((index == I ? (void)v.emplace<I>() : (void)0), ...);
  }

  void read_credentials_of(MapReader& c, StaticCredentialsConfig& cc) {
    std::string key_id;
    c.string("access_key_id", key_id, true);
    if (is_secret_reference(key_id)) {
      auto resolved = secrets_.resolver.resolve(key_id, cfg_.base_dir);
      if (!resolved)
        c.problem("access_key_id", resolved.error().client);
      else
        cc.access_key_id = resolved->value();
    } else {
      cc.access_key_id = key_id;
    }
    c.secret("secret_access_key", secrets_, cc.secret_access_key, true);
    c.secret("session_token", secrets_, cc.session_token, false);
  }

  void read_credentials_of(MapReader& c, DefaultChainCredentialsConfig& cc) {
    uses_default_chain_ = true;
    c.string("profile", cc.profile);
    c.path("shared_credentials_file", cfg_.base_dir, cc.shared_credentials_file);
  }

  void read_credentials_of(MapReader& c, EarthdataCredentialsConfig& cc) {
    c.string("url", cc.url, true);
    if (!cc.url.empty() && cc.url.rfind("http://", 0) != 0 && cc.url.rfind("https://", 0) != 0) {
      c.problem("url", "must start with http:// or https://");
    }
    c.secret("token", secrets_, cc.token, false);
    c.secret("username", secrets_, cc.username, false);
    c.secret("password", secrets_, cc.password, false);
    c.string("login_host", cc.login_host);
    if (!cc.token && !(cc.username && cc.password) && c.present()) {
      c.problem("token", "give a token, or a username and a password");
    }
    read_rotation(c, cc.rotation);
  }

  void read_credentials_of(MapReader& c, AssumeRoleCredentialsConfig& cc) {
    c.string("role_arn", cc.role_arn, true);
    c.string("session_name", cc.session_name);
    c.string("external_id", cc.external_id);
    milliseconds duration{3'600'000};
    c.duration("duration", duration);
    if (duration < std::chrono::minutes(15) || duration > std::chrono::hours(12)) {
      c.problem("duration", "must be between 15m and 12h (STS's limits)");
    }
    cc.duration_seconds = static_cast<int>(duration.count() / 1000);
    c.string("region", cc.sts_region);
    c.string("endpoint", cc.sts_endpoint);
    cc.base = std::make_shared<CredentialsConfig>();
    MapReader base(c.raw("base"), c.child_path("base"), problems_);
    if (!base.present())
      c.problem("base", "is required: the credentials that may assume the role");
    else
      read_credentials(base, *cc.base);
    read_rotation(c, cc.rotation);
  }

  // An assume-role's STS region defaults to the region of what it signs for.
  static void default_sts_region(CredentialsConfig& cc, const std::string& region) {
    auto* role = std::get_if<AssumeRoleCredentialsConfig>(&cc.backend);
    if (role && role->sts_region.empty()) role->sts_region = region;
  }

  void read_rotation(MapReader& c, RotationConfig& r) {
    c.duration("refresh_every", r.refresh_every);
    c.duration("refresh_margin", r.refresh_margin);
    c.duration("retry_backoff_max", r.retry_backoff_max);
    c.boolean("prefetch", r.prefetch);
    if (r.refresh_every < std::chrono::seconds(1)) c.problem("refresh_every", "must be at least 1s");
  }

  void read_staging(MapReader& top) {
    MapReader s(top.raw("staging"), "staging", problems_);
    s.string("provider", cfg_.staging.provider);
    s.string("bucket", cfg_.staging.bucket);
    s.string("prefix", cfg_.staging.prefix);
    s.duration("presign_ttl", cfg_.staging.presign_ttl);
    const auto& prefix = cfg_.staging.prefix;
    if (!prefix.empty() && (prefix.back() != '/' || prefix.front() == '/' || prefix.find("..") != std::string::npos)) {
      s.problem("prefix", "must be empty or a relative prefix ending with '/'");
    }
    if (cfg_.staging.bucket.empty()) s.problem("bucket", "must not be empty");
  }

  void read_raster(MapReader& top) {
    MapReader r(top.raw("raster"), "raster", problems_);
    auto& out = cfg_.raster;
    r.byte_size("cache_bytes", 0, 1ULL << 40, out.cache_bytes);
    r.integer("header_cache_entries", 1, 1'000'000, out.header_cache_entries);
    r.duration("revalidate_after", out.revalidate_after);
    r.integer("fetch_threads", 1, 256, out.fetch_threads);
    r.duration("grant_ttl", out.grant_ttl);
    r.integer("max_image_pixels", 1, 1LL << 32, out.max_image_pixels);
    r.integer("png_level", 1, 9, out.png_level);
    MapReader z(r.raw("deepzoom"), "raster.deepzoom", problems_);
    z.integer("tile_size", 16, 4096, out.deepzoom.tile_size);
    z.integer("overlap", 0, 64, out.deepzoom.overlap);
    z.string("format", out.deepzoom.format);
    z.integer("max_flat_pixels", 1, 1LL << 34, out.deepzoom.max_flat_pixels);
    z.byte_size("flat_cache_bytes", 0, 1ULL << 40, out.deepzoom.flat_cache_bytes);
    if (out.deepzoom.overlap * 2 >= out.deepzoom.tile_size) z.problem("overlap", "must be less than half of tile_size");
    if (out.deepzoom.format != "jpeg" && out.deepzoom.format != "png") z.problem("format", "must be jpeg or png");
  }

  void read_engine(MapReader& top) {
    MapReader e(top.raw("engine"), "engine", problems_);
    auto& out = cfg_.engine;
    std::string type(out.type());
    e.string("type", type);
    e.integer("max_param_bytes", 1, 1LL << 30, out.param_limits.max_param_bytes);
    e.integer("max_params_bytes", 1, 1LL << 30, out.param_limits.max_params_bytes);
    if (type == "local") {
      auto& local = out.backend.emplace<LocalEngineConfig>();
      e.integer("max_parallel_runs", 1, 1024, local.max_parallel_runs);
      e.path("work_dir", cfg_.base_dir, local.work_dir);
      e.duration("cancel_grace", local.cancel_grace);
      e.duration("lease", local.lease);
      e.duration("heartbeat", local.heartbeat);
      if (local.heartbeat.count() <= 0 || local.heartbeat * 3 > local.lease) {
        e.problem("heartbeat", "must be positive and at most a third of engine.lease, or a slow beat loses claims");
      }
    } else if (type == "airflow") {
      read_airflow(e, out.backend.emplace<AirflowEngineConfig>());
    } else {
      e.problem("type", "unsupported engine type '" + type + "' (supported: local, airflow)");
    }
  }

  void read_airflow(MapReader& e, AirflowEngineConfig& out) {
    e.string("url", out.url);
    while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
    if (!out.url.empty() && out.url.rfind("http://", 0) != 0 && out.url.rfind("https://", 0) != 0)
      e.problem("url", "must start with http:// or https://");
    e.string("api", out.api);
    if (out.api != "v1" && out.api != "v2") e.problem("api", "must be v1 (Airflow 2) or v2 (Airflow 3)");
    e.duration("timeout", out.timeout);
    e.duration("dag_cache_ttl", out.dag_cache_ttl);
    e.boolean("show_paused", out.show_paused);
    e.integer("max_retries", 0, 10, out.max_retries);
    if (out.timeout.count() <= 0) e.problem("timeout", "must be positive");
    if (out.dag_cache_ttl.count() <= 0) e.problem("dag_cache_ttl", "must be positive");

    MapReader a(e.raw("auth"), e.child_path("auth"), problems_);
    auto& auth = out.auth;
    a.string("type", auth.type);
    bool mwaa = auth.type == "mwaa-web-login" || auth.type == "mwaa-invoke-rest-api";
    if (out.url.empty() && !mwaa) e.problem("url", "is required for an airflow engine");
    if (auth.type == "basic" || auth.type == "airflow3-password") {
      a.string("username", auth.username, true);
      a.secret("password", secrets_, auth.password, true);
      if (auth.type == "airflow3-password") {
        a.string("token_url", auth.token_url);
        if (auth.token_url.empty()) auth.token_url = out.url + "/auth/token";
      }
    } else if (auth.type == "token") {
      a.secret("token", secrets_, auth.token, true);
    } else if (mwaa) {
      a.string("environment", auth.environment, true);
      a.string("region", auth.region, true);
      a.string("mwaa_endpoint", auth.mwaa_endpoint);
      while (!auth.mwaa_endpoint.empty() && auth.mwaa_endpoint.back() == '/') auth.mwaa_endpoint.pop_back();
      if (auth.mwaa_endpoint.empty()) auth.mwaa_endpoint = "https://env.airflow." + auth.region + ".amazonaws.com";
      if (auth.type == "mwaa-web-login") a.string("login_url", auth.login_url);
      MapReader c(a.raw("credentials"), a.child_path("credentials"), problems_);
      read_credentials(c, auth.credentials);
      default_sts_region(auth.credentials, auth.region);
    } else if (auth.type != "none") {
      a.problem("type", "unsupported auth type '" + auth.type +
                            "' (supported: none, basic, token, airflow3-password, mwaa-web-login, "
                            "mwaa-invoke-rest-api)");
    }
  }

  // The backend is chosen by the URL's scheme: sqlite:PATH, or a plain path, is SQLite.
  // `ledger:` is a URL, or for PostgreSQL a mapping with the URL and what a URL must not
  // hold (the password, as a secret reference) or cannot say (the pool, the timeout).
  void read_ledger(MapReader& top) {
    YAML::Node n = top.raw("ledger");
    std::string url = cfg_.ledger.url;
    std::optional<MapReader> map;
    PostgresLedgerConfig pg;
    if (n && n.IsMap()) {
      map.emplace(n, "ledger", problems_);
      map->string("url", url, true);
      map->secret("password", secrets_, pg.password, false);
      map->integer("pool_size", 1, 256, pg.pool_size);
      map->duration("statement_timeout", pg.statement_timeout);
      if (pg.statement_timeout < milliseconds(1)) map->problem("statement_timeout", "must be at least 1ms");
    } else if (n && !n.IsNull()) {
      if (!n.IsScalar()) {
        return top.problem("ledger", "must be a URL like sqlite:./data/scigate.db or postgresql://user@host/db");
      }
      url = n.Scalar();
    }
    auto url_problem = [&](const std::string& reason) {
      map ? map->problem("url", reason) : top.problem("ledger", reason);
    };
    cfg_.ledger.url = url;
    std::string scheme = url_scheme(url);
    if (scheme == "postgresql" || scheme == "postgres") {
      if (url_has_password(url)) {
        return url_problem(
            "the URL holds a password: remove it and set ledger.password to a secret reference (env:NAME or "
            "file:PATH)");
      }
      // Instances sharing the ledger serve each other's signed links: one key for all,
      // and no data folder to keep a generated one in.
      if (!cfg_.server.signing_key) {
        top.problem("ledger", "a PostgreSQL ledger needs server.signing_key (the same secret on every instance)");
      }
      pg.url = url;
      cfg_.ledger.backend = std::move(pg);
      return;
    }
    if (map) {
      for (const char* key : {"password", "pool_size", "statement_timeout"}) {
        if (map->has(key)) map->problem(key, "is only for a PostgreSQL ledger");
      }
    }
    if (!scheme.empty() && scheme != "sqlite") {
      return url_problem("unsupported ledger '" + url +
                         "' (supported: sqlite:PATH, a file path or postgresql://user@host:port/db)");
    }
    fs::path p = scheme.empty() ? url : url.substr(scheme.size() + 1);
    if (p.empty()) return url_problem("sqlite: needs a file path");
    cfg_.ledger.backend = SqliteLedgerConfig{p.is_relative() ? (cfg_.base_dir / p).lexically_normal() : p};
  }

  // postgresql://user:PASSWORD@host/db or ...?password=...: a secret written in the config.
  static bool url_has_password(const std::string& url) {
    size_t authority = url.find("://");
    if (authority != std::string::npos) {
      authority += 3;
      size_t end = url.find_first_of("/?#", authority);
      std::string host_part = url.substr(authority, end == std::string::npos ? std::string::npos : end - authority);
      size_t at = host_part.rfind('@');
      if (at != std::string::npos && host_part.substr(0, at).find(':') != std::string::npos) return true;
    }
    size_t query = url.find('?');
    if (query == std::string::npos) return false;
    std::stringstream params(url.substr(query + 1));
    for (std::string param; std::getline(params, param, '&');) {
      if (param.substr(0, param.find('=')) == "password") return true;
    }
    return false;
  }

  // "postgresql" of "postgresql://...", "sqlite" of "sqlite:x.db", "" of a plain path.
  static std::string url_scheme(const std::string& url) {
    size_t colon = url.find(':');
    if (colon == std::string::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(url[0]))) return "";
    for (size_t i = 1; i < colon; ++i) {
      char c = url[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return "";
    }
    return url.substr(0, colon);
  }

  void read_workflows(MapReader& top) {
    for_each_entry(top, "workflows", problems_, [&](const std::string& id, MapReader& w) {
      WorkflowConfig wc;
      wc.id = id;
      w.string("description", wc.description);
      std::string schedule;
      w.string("schedule", schedule);
      if (!schedule.empty()) wc.schedule = schedule;
      if (w.has("params")) {
        auto json = yaml_to_json(w.raw("params"));
        if (!json) {
          w.problem("params", json.error().client);
        } else if (!json->is_object()) {
          w.problem("params", "must be a mapping of parameter name to schema");
        } else if (auto schema = ParamSchema::from_properties(json->get_object(), cfg_.engine.param_limits); !schema) {
          w.problem("params", schema.error().client);
        } else {
          wc.params = std::move(schema).value();
          check_lengths_fit(w, wc.params);
        }
      }
      // Airflow DAGs define their own tasks; `workflows:` may still describe them.
      if (cfg_.engine.local()) {
        read_steps(w, wc);
        read_step_env(w, wc);
      }
      cfg_.workflows[id] = std::move(wc);
    });
  }

  void read_steps(MapReader& w, WorkflowConfig& wc) {
    YAML::Node steps = w.raw("steps");
    if (!steps || !steps.IsSequence() || steps.size() == 0) {
      return w.problem("steps", "must be a non-empty list of {id, command}");
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      MapReader s(steps[i], w.child_path("steps") + "[" + std::to_string(i) + "]", problems_);
      WorkflowStep step;
      s.string("id", step.id, true);
      s.string_list("command", step.command);
      if (step.command.empty()) s.problem("command", "must be a non-empty list (program and arguments)");
      wc.steps.push_back(std::move(step));
    }
  }

  // A maxLength no request could ever reach (the total bound is smaller) is a config mistake.
  void check_lengths_fit(MapReader& w, const ParamSchema& params) {
    size_t total = cfg_.engine.param_limits.max_params_bytes;
    for (const auto& spec : params.specs()) {
      if (spec.max_length && *spec.max_length > total) {
        w.problem("params", "parameter '" + spec.name + "': maxLength " + std::to_string(*spec.max_length) +
                                " exceeds engine.max_params_bytes (" + std::to_string(total) + ")");
      }
    }
  }

  // workflows.<id>.env: a list of NAME (copied from scigate's environment when set) and
  // NAME=value (a literal), like `docker run -e`. Steps see nothing else of the server's
  // environment beyond a fixed allow-list (PATH, HOME, LANG, ...).
  void read_step_env(MapReader& w, WorkflowConfig& wc) {
    YAML::Node list = w.raw("env");
    if (!list || list.IsNull()) return;
    if (!list.IsSequence()) return w.problem("env", "must be a list of NAME or NAME=value");
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = w.child_path("env") + "[" + std::to_string(i) + "]";
      int line = list[i].Mark().line + 1;
      if (!list[i].IsScalar()) {
        add(path, "must be NAME or NAME=value", line);
        continue;
      }
      const std::string& item = list[i].Scalar();
      auto eq = item.find('=');
      StepEnvVar var{item.substr(0, eq), std::nullopt};
      if (eq != std::string::npos) var.value = item.substr(eq + 1);
      if (!valid_env_name(var.name)) {
        add(path, "'" + var.name + "' is not a variable name (letters, digits and _, not starting with a digit)", line);
      } else if (var.name.rfind("SCIGATE_", 0) == 0) {
        add(path, "SCIGATE_* variables are reserved: scigate sets them for each step", line);
      } else if (!seen.insert(var.name).second) {
        add(path, var.name + " is listed twice", line);
      } else {
        if (!var.value) pass_through_.push_back({var.name, path, line});
        wc.env.push_back(std::move(var));
      }
    }
  }

  static bool valid_env_name(const std::string& name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  }

  // Every `env:NAME` in the config names a secret; the AWS default chain reads its own.
  static void collect_env_references(const YAML::Node& node, const std::string& path,
                                     std::map<std::string, std::string>& out) {
    if (node.IsScalar()) {
      const std::string& v = node.Scalar();
      if (v.rfind("env:", 0) == 0 && v.size() > 4) out.emplace(v.substr(4), path);
    } else if (node.IsMap()) {
      for (const auto& kv : node) {
        collect_env_references(kv.second, path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar(), out);
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i)
        collect_env_references(node[i], path + "[" + std::to_string(i) + "]", out);
    }
  }

  // A step must never see scigate's own secrets, not even when an operator lists one by
  // mistake: passing it through would hand it to whatever code the step runs.
  void refuse_secrets_in_step_env(const YAML::Node& root) {
    if (pass_through_.empty()) return;
    std::map<std::string, std::string> secrets;
    collect_env_references(root, "", secrets);
    if (uses_default_chain_) {
      for (const char* name :
           {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN"}) {
        secrets.emplace(name, "the AWS default credentials chain (credentials type: default)");
      }
    }
    for (const auto& p : pass_through_) {
      if (auto it = secrets.find(p.name); it != secrets.end()) {
        add(p.path, p.name + " holds a secret of scigate (" + it->second + "); steps may not see it", p.line);
      }
    }
  }

  void read_collections(MapReader& top) {
    for_each_entry(top, "collections", problems_, [&](const std::string& id, MapReader& c) {
      CollectionConfig cc;
      cc.id = id;
      c.string("description", cc.description);
      c.string("bucket", cc.bucket, true);
      c.string("prefix", cc.prefix);
      c.string("provider", cc.provider);
      if (cc.prefix.find("..") != std::string::npos || (!cc.prefix.empty() && cc.prefix.front() == '/')) {
        c.problem("prefix", "must be a relative prefix without '..'");
      }
      for_each_entry(c, "workflows", problems_, [&](const std::string& wf, MapReader& w) {
        std::vector<std::string> users;
        w.string_list("authorized_users", users);
        cc.authorized_users[wf] = std::move(users);
      });
      collection_lines_[id] = c.line_of("provider");
      cfg_.collections[id] = std::move(cc);
    });
  }

  void add(const std::string& path, const std::string& reason, int line = 0) {
    problems_.push_back({path, line, reason});
  }

  void apply_defaults_and_cross_check() {
    auto& c = cfg_;
    if (c.server.public_url.empty()) {
      c.server.public_url = "http://" + c.server.host + ":" + std::to_string(c.server.port);
    }
    while (!c.server.public_url.empty() && c.server.public_url.back() == '/') c.server.public_url.pop_back();
    if (c.providers.empty()) {
      c.providers["local"] =
          ProviderConfig{"local", FileProviderConfig{(c.base_dir / "data/buckets").lexically_normal()}};
    }
    if (c.default_provider.empty()) {
      c.default_provider = c.providers.count("local") ? "local" : c.providers.begin()->first;
    } else if (!c.providers.count(c.default_provider)) {
      add("default_provider", "undefined provider '" + c.default_provider + "'");
    }
    if (c.staging.provider.empty()) c.staging.provider = c.default_provider;
    if (!c.providers.count(c.staging.provider))
      add("staging.provider", "undefined provider '" + c.staging.provider + "'");
    if (auto* local = std::get_if<LocalEngineConfig>(&c.engine.backend); local && local->work_dir.empty())
      local->work_dir = (c.base_dir / "data/runs").lexically_normal();
    for (auto& [id, col] : c.collections) {
      if (col.provider.empty()) col.provider = c.default_provider;
      if (!c.providers.count(col.provider)) {
        add("collections." + id + ".provider", "undefined provider '" + col.provider + "'", collection_lines_[id]);
      }
      for (const auto& [wf, users] : col.authorized_users) {
        if (c.engine.local() && !c.workflows.count(wf)) {
          add("collections." + id + ".workflows." + wf, "undefined workflow '" + wf + "' (not in workflows:)");
        }
      }
    }
    for (auto& [id, wf] : c.workflows) resolve_step_programs(wf);
  }

  // A step program given as a relative path with a '/' is relative to the config file.
  void resolve_step_programs(WorkflowConfig& wf) {
    for (auto& step : wf.steps) {
      if (step.command.empty()) continue;
      std::string& prog = step.command.front();
      if (prog.find('/') != std::string::npos && fs::path(prog).is_relative()) {
        prog = (cfg_.base_dir / prog).lexically_normal().string();
      }
    }
  }

  ConfigLoad finish() {
    ConfigLoad out;
    out.problems = std::move(problems_);
    if (out.problems.empty()) out.config = std::move(cfg_);
    return out;
  }

  struct PassThrough {
    std::string name, path;
    int line;
  };

  SecretContext secrets_;
  Config cfg_;
  std::vector<ConfigProblem> problems_;
  std::map<std::string, int> collection_lines_;
  std::vector<PassThrough> pass_through_;  // workflows.*.env entries copied from the server
  bool uses_default_chain_ = false;
};

}  // namespace

std::string ConfigLoad::describe(const fs::path& file) const {
  std::ostringstream out;
  for (const auto& p : problems) {
    out << file.string();
    if (p.line > 0) out << ":" << p.line;
    out << ": " << (p.key_path.empty() ? "(top level)" : p.key_path) << ": " << p.reason << "\n";
  }
  return out.str();
}

ConfigLoad load_config_text(const std::string& yaml, const fs::path& file, const fs::path& base_dir,
                            const SecretResolver* secrets) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    ConfigLoad out;
    out.problems.push_back({"", e.mark.line + 1, "invalid YAML: " + e.msg});
    return out;
  }
  static const SecretResolver kBuiltin;
  return Loader(file, base_dir, secrets ? *secrets : kBuiltin).run(root);
}

ConfigLoad load_config_file(const fs::path& file, const SecretResolver* secrets) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    ConfigLoad out;
    out.problems.push_back({"", 0, "cannot read config file"});
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  fs::path abs = fs::absolute(file);
  return load_config_text(ss.str(), abs, abs.parent_path(), secrets);
}

}  // namespace scigate
