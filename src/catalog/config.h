// scigate's typed configuration. Loaded once at startup (config_loader.h), immutable
// afterwards and shared read-only by every component. The seed's `collections` shape is
// valid unchanged; everything else has embedded defaults that need no cloud.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "catalog/secret.h"
#include "core/param_schema.h"
#include "http/server_options.h"

namespace scigate {

using std::chrono::milliseconds;

// server: the HTTP server's options (listening, limits, timeouts: one list of fields,
// http/server_options.h) plus what the rest of scigate needs to know about it.
struct ServerConfig : ServerOptions {
  std::string public_url;  // default: http://{host}:{port}
  std::string log_level = "info";
  // Signs the links scigate serves itself (/files). Absent: a key generated once and kept
  // in the data folder (beside the SQLite ledger), so links survive a restart.
  std::optional<Secret> signing_key;
};

struct JwtConfig {
  std::vector<std::string> algorithms{"HS256"};
  Secret secret;
  std::string issuer;    // checked when non-empty
  std::string audience;  // checked when non-empty
  std::vector<std::string> username_claims{"username", "sub"};
  milliseconds leeway{30'000};
  milliseconds max_token_lifetime{24 * 3'600'000};  // exp − iat above this is refused; 0 = no limit
};

// Where a provider's S3 credentials come from (providers.<name>.credentials, and MWAA's
// engine.auth.credentials): one struct per `type:`, held in CredentialsConfig's variant.

// How rotating kinds refresh (earthdata-s3credentials, sts-assume-role).
struct RotationConfig {
  milliseconds refresh_every{30 * 60'000};
  milliseconds refresh_margin{5 * 60'000};
  milliseconds retry_backoff_max{60'000};  // failed refreshes retry with jittered backoff up to this
  bool prefetch = false;
};

// type: default. The AWS default chain.
struct DefaultChainCredentialsConfig {
  std::string profile;                            // shared-file profile (else AWS_PROFILE, "default")
  std::filesystem::path shared_credentials_file;  // else AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials
};

// type: static. Fixed keys.
struct StaticCredentialsConfig {
  std::string access_key_id;  // literal or resolved reference
  std::optional<Secret> secret_access_key;
  std::optional<Secret> session_token;  // optional
};

// type: earthdata-s3credentials. A DAAC's /s3credentials with a bearer token, or a
// username and password through Earthdata Login.
struct EarthdataCredentialsConfig {
  std::string url;
  std::optional<Secret> token;
  std::optional<Secret> username;
  std::optional<Secret> password;
  std::string login_host = "urs.earthdata.nasa.gov";  // the only host that may see the password
  RotationConfig rotation;
};

struct CredentialsConfig;

// type: sts-assume-role, signed with the `base` credentials.
struct AssumeRoleCredentialsConfig {
  std::string role_arn;
  std::string session_name = "scigate";
  std::string external_id;
  int duration_seconds = 3600;
  std::string sts_region;  // default: the provider's region
  std::string sts_endpoint;
  std::shared_ptr<CredentialsConfig> base;
  RotationConfig rotation;
};

using CredentialsBackend = std::variant<DefaultChainCredentialsConfig, StaticCredentialsConfig,
                                        EarthdataCredentialsConfig, AssumeRoleCredentialsConfig>;

// The one list of credential types: the `type:` names, in the order of CredentialsBackend's
// alternatives. The loader reads and the factory (credentials_provider.cc) builds each
// alternative with std::visit, so a new type is a struct here, a name here, and the
// compiler points at the two visitors that must learn it.
inline constexpr std::string_view kCredentialTypes[] = {"default", "static", "earthdata-s3credentials",
                                                        "sts-assume-role"};
static_assert(std::size(kCredentialTypes) == std::variant_size_v<CredentialsBackend>);

struct CredentialsConfig {
  CredentialsBackend backend;  // default: the AWS default chain
  std::string_view type() const { return kCredentialTypes[backend.index()]; }
};

// A place buckets live (providers.<name>), one struct per `type:`.

// type: file. Bucket = sub-folder of root.
struct FileProviderConfig {
  std::filesystem::path root;
  std::optional<Secret> signing_key;  // for presigned links; default server.signing_key
};

// type: s3.
struct S3ProviderConfig {
  std::string region;
  std::string endpoint;     // "" = AWS; e.g. http://127.0.0.1:7480
  bool path_style = false;  // default: true when an endpoint is given
  CredentialsConfig credentials;
  size_t multipart_threshold = 16 << 20;
  size_t part_size = 8 << 20;
  int max_retries = 3;
  milliseconds connect_timeout{5'000};
  milliseconds request_timeout{30'000};  // per small request; large transfers use a stall limit
  milliseconds max_presign_ttl{7 * 24 * 3'600'000LL};
};

using ProviderBackend = std::variant<FileProviderConfig, S3ProviderConfig>;
// The `type:` names, in the order of ProviderBackend's alternatives (as kCredentialTypes).
inline constexpr std::string_view kProviderTypes[] = {"file", "s3"};
static_assert(std::size(kProviderTypes) == std::variant_size_v<ProviderBackend>);

struct ProviderConfig {
  std::string name;
  ProviderBackend backend;
  std::string_view type() const { return kProviderTypes[backend.index()]; }
  const FileProviderConfig* file() const { return std::get_if<FileProviderConfig>(&backend); }
  const S3ProviderConfig* s3() const { return std::get_if<S3ProviderConfig>(&backend); }
};

struct StagingConfig {
  std::string provider;
  std::string bucket = "staging";
  std::string prefix;  // "" or ends with '/'
  milliseconds presign_ttl{600'000};
};

// How scigate authenticates to Airflow (engine.auth).
struct AirflowAuthConfig {
  // none | basic | token | airflow3-password | mwaa-web-login | mwaa-invoke-rest-api
  std::string type = "none";
  std::string username;            // basic, airflow3-password (not a secret)
  std::optional<Secret> password;  // basic, airflow3-password
  std::optional<Secret> token;     // token
  std::string token_url;           // airflow3-password: default {url}/auth/token
  // mwaa-*: the environment, its region and the AWS credentials that sign for it
  std::string environment;
  std::string region;
  std::string mwaa_endpoint;  // default https://env.airflow.{region}.amazonaws.com
  std::string login_url;      // mwaa-web-login: default https://{WebServerHostname}/aws_mwaa/login
  CredentialsConfig credentials;
};

// engine.type: local. Runs workflow steps as child processes.
struct LocalEngineConfig {
  int max_parallel_runs = 2;
  std::filesystem::path work_dir;  // one folder per run
  milliseconds cancel_grace{5'000};
  // Instances sharing a ledger (local_engine.h): a claimed run is another instance's to
  // end once its owner has not renewed the claim for `lease`; the owner renews, reads
  // cancel flags and ships logs every `heartbeat`, and idle runners look for runs
  // triggered elsewhere as often.
  milliseconds lease{30'000};
  milliseconds heartbeat{1'000};
};

// engine.type: airflow. Apache Airflow 2/3 or Amazon MWAA.
struct AirflowEngineConfig {
  std::string url;         // Airflow's base URL, without /api/vN ("" allowed for mwaa-* modes)
  std::string api = "v1";  // v1 = Airflow 2 (/api/v1), v2 = Airflow 3 (/api/v2)
  AirflowAuthConfig auth;
  milliseconds timeout{10'000};        // one engine operation, retries included
  milliseconds dag_cache_ttl{60'000};  // how often the DAG list is refreshed in the background
  bool show_paused = false;            // list paused DAGs as workflows
  int max_retries = 2;                 // idempotent calls only
};

using EngineBackend = std::variant<LocalEngineConfig, AirflowEngineConfig>;
// The `type:` names, in the order of EngineBackend's alternatives (as kCredentialTypes).
inline constexpr std::string_view kEngineTypes[] = {"local", "airflow"};
static_assert(std::size(kEngineTypes) == std::variant_size_v<EngineBackend>);

struct EngineConfig {
  ParamLimits param_limits;  // any engine: bounds on a run's parameters
  EngineBackend backend;
  std::string_view type() const { return kEngineTypes[backend.index()]; }
  const LocalEngineConfig* local() const { return std::get_if<LocalEngineConfig>(&backend); }
  const AirflowEngineConfig* airflow() const { return std::get_if<AirflowEngineConfig>(&backend); }
};

// The run ledger (`ledger:`), one struct per backend, chosen by the URL's scheme
// (ledger/ledger_factory.h builds it).
struct SqliteLedgerConfig {
  std::filesystem::path path;  // resolved against the config's folder
};

// Several instances on one ledger (issue 12): `ledger: postgresql://user@host:port/db?...`
// or a mapping {url, password, pool_size, statement_timeout}.
struct PostgresLedgerConfig {
  std::string url;                 // never with a password in it (refused)
  std::optional<Secret> password;  // env:NAME / file:PATH
  int pool_size = 4;
  milliseconds statement_timeout{5000};
};

struct LedgerConfig {
  std::string url = "sqlite:./data/scigate.db";  // as written
  std::variant<SqliteLedgerConfig, PostgresLedgerConfig> backend;
  // The folder of a ledger kept in a local file (where signing.key lives unless
  // server.signing_key is set); empty for a ledger on a server.
  std::filesystem::path local_folder() const {
    const auto* sqlite = std::get_if<SqliteLedgerConfig>(&backend);
    return sqlite ? sqlite->path.parent_path() : std::filesystem::path();
  }
};

// One entry of workflows.<id>.env (local engine): NAME copies the server's variable when
// it is set; NAME=value sets a literal.
struct StepEnvVar {
  std::string name;
  std::optional<std::string> value;  // nullopt: copied from the server's environment
};

struct WorkflowStep {
  std::string id;
  std::vector<std::string> command;  // argv; relative program paths resolve to the config folder
};

struct WorkflowConfig {
  std::string id;
  std::string description;
  ParamSchema params;
  std::optional<std::string> schedule;
  std::vector<WorkflowStep> steps;
  std::vector<StepEnvVar> env;  // local engine: what steps see beyond the fixed allow-list
};

struct CollectionConfig {
  std::string id;
  std::string description;
  std::string bucket;
  std::string prefix;
  std::string provider;
  std::map<std::string, std::vector<std::string>> authorized_users;  // workflow id -> users
};

// Map tiles (raster:): the COG reader's caches and parallelism, and the tiler's limits.
// DZI pyramids (raster.deepzoom): OpenSeadragon's and `vips dzsave`'s defaults. IIIF tiles
// are tile_size + 2 * overlap wide (256 by default).
struct DeepZoomConfig {
  int tile_size = 254;
  int overlap = 1;
  std::string format = "jpeg";  // of DZI tiles: jpeg or png
  // Images without reduced-resolution levels (PNG, JPEG, single-level TIFFs) are decoded
  // whole into memory with a pyramid made there: the largest such image (width x height;
  // 413 beyond) and the memory all such images together keep (LRU).
  int64_t max_flat_pixels = int64_t{1} << 26;
  uint64_t flat_cache_bytes = uint64_t{1} << 29;
};

struct RasterConfig {
  uint64_t cache_bytes = 256 << 20;       // decoded blocks of every file together
  size_t header_cache_entries = 256;      // files whose parsed header is kept
  milliseconds revalidate_after{60'000};  // a file's ETag is checked again (HEAD) this long after the last check
  int fetch_threads = 16;                 // ranged GETs under way at once, all reads together
  milliseconds grant_ttl{3'600'000};      // how long the tile URLs of a tilejson.json stay valid
  // Largest image (width x height) a tile, /bbox, /preview or /statistics may render: the
  // pipeline holds a few doubles per pixel and band, so this bounds a request's memory.
  int64_t max_image_pixels = 2048 * 2048;
  // zlib level of PNG tiles. GDAL (so rio-tiler and TiTiler) uses 6; PNG encoding was
  // most of a tile's CPU there, and level 2 encodes 3-4x faster for 3-8 % more bytes
  // (docs/BENCHMARKS.md, "Tiles: end to end").
  int png_level = 2;
  DeepZoomConfig deepzoom;
};

struct Config {
  std::filesystem::path file;  // the YAML it came from
  std::filesystem::path base_dir;
  ServerConfig server;
  JwtConfig jwt;
  std::map<std::string, ProviderConfig> providers;
  std::string default_provider;
  StagingConfig staging;
  EngineConfig engine;
  LedgerConfig ledger;
  RasterConfig raster;
  std::map<std::string, WorkflowConfig> workflows;
  std::map<std::string, CollectionConfig> collections;
};

}  // namespace scigate
