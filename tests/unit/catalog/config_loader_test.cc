#include "catalog/config_loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include "temp_dir.h"

namespace scigate {
namespace {

const std::filesystem::path kBase = "/srv/scigate";

ConfigLoad load(const std::string& yaml) {
  ::setenv("CONFIG_TEST_SECRET", "s3cr3t-value", 1);
  ::setenv("CONFIG_TEST_SIGNING_KEY", "0123456789abcdef0123456789abcdef", 1);
  return load_config_text(yaml, kBase / "config.yaml", kBase);
}

const char* kMinimalAuth = "auth: {jwt: {secret: env:CONFIG_TEST_SECRET}}\n";

std::string with_auth(const std::string& rest) { return std::string(kMinimalAuth) + rest; }
// Several instances on one ledger sign links with one key.
std::string shared(const std::string& rest) {
  return with_auth("server: {signing_key: env:CONFIG_TEST_SIGNING_KEY}\n" + rest);
}

// True when some problem has exactly this key path and mentions `reason`.
bool has_problem(const ConfigLoad& load, const std::string& key_path, const std::string& reason) {
  for (const auto& p : load.problems) {
    if (p.key_path == key_path && p.reason.find(reason) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const ConfigLoad& l) { return l.describe("config.yaml"); }

TEST(ConfigLoader, SeedCollectionsShapeIsAcceptedUnchanged) {
  auto l = load(with_auth(R"(
workflows:
  nebraska: {steps: [{id: a, command: [examples/a.sh]}]}
collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska:
        authorized_users:
          - thomas
          - dliu
)"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  const Config& c = *l.config;
  const auto& col = c.collections.at("nebraska_images");
  EXPECT_EQ(col.bucket, "edrn-bucket");
  EXPECT_EQ(col.prefix, "nebraska_images/");
  EXPECT_EQ(col.provider, "local");
  EXPECT_EQ(col.authorized_users.at("nebraska"), (std::vector<std::string>{"thomas", "dliu"}));
  EXPECT_EQ(c.jwt.secret.value(), "s3cr3t-value");
  EXPECT_EQ(c.jwt.secret.reference(), "env:CONFIG_TEST_SECRET");
}

TEST(ConfigLoader, DefaultsNeedNoCloudAndRelativePathsResolveAgainstConfigFolder) {
  auto l =
      load(with_auth("ledger: sqlite:db/runs.db\nworkflows:\n  w: {steps: [{id: s, command: [bin/step.sh, x]}]}\n"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  const Config& c = *l.config;
  EXPECT_EQ(c.providers.at("local").type(), "file");
  EXPECT_EQ(c.providers.at("local").file()->root, kBase / "data/buckets");
  EXPECT_EQ(std::get<SqliteLedgerConfig>(c.ledger.backend).path, kBase / "db/runs.db");
  EXPECT_EQ(c.ledger.local_folder(), kBase / "db");
  EXPECT_EQ(c.engine.type(), "local");
  EXPECT_EQ(c.engine.local()->work_dir, kBase / "data/runs");
  EXPECT_EQ(c.staging.provider, "local");
  EXPECT_EQ(c.server.public_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.workflows.at("w").steps[0].command[0], (kBase / "bin/step.sh").string());
  EXPECT_EQ(c.workflows.at("w").steps[0].command[1], "x");
}

TEST(ConfigLoader, FullDesignShape) {
  auto l = load(R"(
server: {listen: "127.0.0.1:9000", public_url: "http://gw.example/", cors_allowed_origins: ["http://a"],
         max_body_bytes: 2048, read_timeout: 5s}
auth:
  jwt: {algorithms: [HS256], secret: "env:CONFIG_TEST_SECRET", issuer: LabCAS, audience: LabCAS,
        username_claims: [username, sub], leeway: 30s}
providers:
  local: {type: file, root: /data/buckets}
default_provider: local
staging: {provider: local, bucket: staging, prefix: "out/", presign_ttl: 10m}
engine: {type: local, max_parallel_runs: 3, cancel_grace: 2s}
ledger: "sqlite:/var/lib/scigate.db"
workflows:
  nebraska:
    description: Tile images and detect nuclei
    params: {tile_size: {type: integer, default: 64, minimum: 16}}
    steps: [{id: tile, command: [/bin/true]}, {id: detect, command: [/bin/true]}]
collections:
  nebraska_images: {bucket: b, prefix: p/, provider: local, workflows: {nebraska: {authorized_users: [thomas]}}}
)");
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  const Config& c = *l.config;
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.public_url, "http://gw.example");
  EXPECT_EQ(c.server.max_body_bytes, 2048u);
  EXPECT_EQ(c.server.read_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.jwt.issuer, "LabCAS");
  EXPECT_EQ(c.staging.prefix, "out/");
  EXPECT_EQ(c.staging.presign_ttl, std::chrono::minutes(10));
  EXPECT_EQ(c.engine.local()->max_parallel_runs, 3);
  EXPECT_EQ(c.workflows.at("nebraska").params.specs().size(), 1u);
}

TEST(ConfigLoader, StepEnvAndParamLimits) {
  auto l = load(with_auth(R"(
engine: {type: local, max_param_bytes: 1000, max_params_bytes: 5000}
workflows:
  w:
    params: {text: {type: string, maxLength: 4000}}
    env: [OMP_NUM_THREADS, "GDAL_CACHEMAX=512", "EMPTY=", "URL=http://x/?a=b"]
    steps: [{id: s, command: [/bin/true]}]
)"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  const Config& c = *l.config;
  EXPECT_EQ(c.engine.param_limits.max_param_bytes, 1000u);
  EXPECT_EQ(c.engine.param_limits.max_params_bytes, 5000u);
  EXPECT_EQ(c.workflows.at("w").params.limits().max_param_bytes, 1000u);
  const auto& env = c.workflows.at("w").env;
  ASSERT_EQ(env.size(), 4u);
  EXPECT_EQ(env[0].name, "OMP_NUM_THREADS");
  EXPECT_FALSE(env[0].value);
  EXPECT_EQ(env[1].name, "GDAL_CACHEMAX");
  EXPECT_EQ(env[1].value, "512");
  EXPECT_EQ(env[2].value, "");
  EXPECT_EQ(env[3].value, "http://x/?a=b");
}

struct BadCase {
  const char* name;
  std::string yaml;
  const char* key_path;
  const char* reason;
};

class BadConfigs : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigs, ReportKeyPathAndReason) {
  auto l = load(GetParam().yaml);
  EXPECT_FALSE(l.config);
  EXPECT_TRUE(has_problem(l, GetParam().key_path, GetParam().reason)) << dump(l);
}

const std::string kWf = "workflows:\n  w: {steps: [{id: s, command: [/bin/true]}]}\n";

INSTANTIATE_TEST_SUITE_P(
    Table, BadConfigs,
    ::testing::Values(
        BadCase{"unknown_top", with_auth("colections: {}\n"), "colections", "unknown key"},
        BadCase{"unknown_nested", with_auth("server: {listen: '127.0.0.1:1', lisen: x}\n"), "server.lisen",
                "unknown key"},
        BadCase{"wrong_type", with_auth("engine: {max_parallel_runs: lots}\n"), "engine.max_parallel_runs", "integer"},
        BadCase{"out_of_range", with_auth("engine: {max_parallel_runs: 0}\n"), "engine.max_parallel_runs", "between"},
        BadCase{"bad_duration", with_auth("server: {read_timeout: soon}\n"), "server.read_timeout", "duration"},
        BadCase{"bad_listen", with_auth("server: {listen: nowhere}\n"), "server.listen", "HOST:PORT"},
        BadCase{"inline_secret", "auth: {jwt: {secret: hunter2}}\n", "auth.jwt.secret", "by reference"},
        BadCase{"missing_secret_env", "auth: {jwt: {secret: env:SCIGATE_TEST_UNSET_VAR}}\n", "auth.jwt.secret",
                "SCIGATE_TEST_UNSET_VAR is not set"},
        BadCase{"missing_secret_file", "auth: {jwt: {secret: file:/nonexistent/secret}}\n", "auth.jwt.secret",
                "cannot read"},
        BadCase{"no_secret", "auth: {jwt: {issuer: x}}\n", "auth.jwt.secret", "required"},
        BadCase{"alg_none", "auth: {jwt: {secret: env:CONFIG_TEST_SECRET, algorithms: [none]}}\n",
                "auth.jwt.algorithms", "unsupported"},
        BadCase{"undefined_workflow",
                with_auth(kWf + "collections: {c: {bucket: b, workflows: {nope: {authorized_users: [a]}}}}\n"),
                "collections.c.workflows.nope", "undefined workflow"},
        BadCase{
            "undefined_provider",
            with_auth(kWf + "collections: {c: {bucket: b, provider: mars, workflows: {w: {authorized_users: [a]}}}}\n"),
            "collections.c.provider", "undefined provider 'mars'"},
        BadCase{"missing_bucket", with_auth(kWf + "collections: {c: {workflows: {w: {authorized_users: [a]}}}}\n"),
                "collections.c.bucket", "required"},
        BadCase{"users_not_list",
                with_auth(kWf + "collections: {c: {bucket: b, workflows: {w: {authorized_users: thomas}}}}\n"),
                "collections.c.workflows.w.authorized_users", "list"},
        BadCase{"provider_type", with_auth("providers: {x: {type: ftp}}\n"), "providers.x.type", "unsupported"},
        BadCase{"s3_no_region", with_auth("providers: {x: {type: s3}}\n"), "providers.x.region", "required"},
        BadCase{"s3_endpoint", with_auth("providers: {x: {type: s3, region: r, endpoint: ftp://h}}\n"),
                "providers.x.endpoint", "http"},
        BadCase{"s3_cred_type", with_auth("providers: {x: {type: s3, region: r, credentials: {type: magic}}}\n"),
                "providers.x.credentials.type", "unsupported"},
        BadCase{"s3_inline_secret",
                with_auth("providers: {x: {type: s3, region: r, credentials: {type: static, access_key_id: AK, "
                          "secret_access_key: plain}}}\n"),
                "providers.x.credentials.secret_access_key", "by reference"},
        BadCase{"s3_presign_ttl", with_auth("providers: {x: {type: s3, region: r, max_presign_ttl: 8d}}\n"),
                "providers.x.max_presign_ttl", "7d"},
        BadCase{"staging_provider", with_auth("staging: {provider: nope}\n"), "staging.provider", "undefined provider"},
        BadCase{"staging_prefix", with_auth("staging: {prefix: ../up/}\n"), "staging.prefix", "relative prefix"},
        BadCase{"ledger_kind", with_auth("ledger: mysql://x\n"), "ledger", "unsupported"},
        BadCase{"ledger_postgres_password", with_auth("ledger: \"postgresql://scigate:pw@db:5432/scigate\"\n"),
                "ledger", "ledger.password"},
        BadCase{"no_steps", with_auth("workflows: {w: {description: x}}\n"), "workflows.w.steps", "non-empty"},
        BadCase{"bad_param",
                with_auth("workflows: {w: {params: {p: {type: float}}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.params", "unsupported type"},
        BadCase{"env_secret",
                with_auth("workflows: {w: {env: [PATH, CONFIG_TEST_SECRET], steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env[1]", "CONFIG_TEST_SECRET holds a secret of scigate (auth.jwt.secret)"},
        BadCase{"env_aws_default_chain",
                with_auth("providers: {x: {type: s3, region: r}}\n"
                          "workflows: {w: {env: [AWS_SECRET_ACCESS_KEY], steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env[0]", "AWS default credentials chain"},
        BadCase{"env_reserved", with_auth("workflows: {w: {env: [SCIGATE_CONF=x], steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env[0]", "reserved"},
        BadCase{"env_name", with_auth("workflows: {w: {env: [\"A B=1\"], steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env[0]", "not a variable name"},
        BadCase{"env_twice", with_auth("workflows: {w: {env: [A, A=1], steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env[1]", "listed twice"},
        BadCase{"env_not_list", with_auth("workflows: {w: {env: {A: 1}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.env", "list"},
        BadCase{"max_param_bytes", with_auth("engine: {max_param_bytes: 0}\n"), "engine.max_param_bytes", "between"},
        BadCase{"max_length_unreachable",
                with_auth("engine: {max_params_bytes: 100}\n"
                          "workflows: {w: {params: {p: {maxLength: 200}}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.params", "maxLength 200 exceeds engine.max_params_bytes (100)"},
        BadCase{"not_mapping", with_auth("server: [1, 2]\n"), "server", "mapping"},
        // A non-scalar key in params threw out of load_config_text (found by fuzzing:
        // fuzz/corpus/config/params-complex-key.yaml); an alias inside its own anchor
        // recursed until the stack overflowed (same function, confirmed under ASan:
        // params-alias-cycle.yaml); aliases could expand without bound.
        BadCase{"param_complex_key",
                with_auth("workflows: {w: {params: {? [a, b] : {type: integer}}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.params", "keys must be plain strings"},
        BadCase{"param_alias_cycle",
                with_auth("workflows: {w: {params: &a {x: *a}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.params", "nested too deeply"},
        BadCase{"param_alias_expansion",
                with_auth("x0: &a0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
                          "x1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n"
                          "x2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n"
                          "x3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n"
                          "x4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]\n"
                          "workflows: {w: {params: {p: {enum: [*a4, *a4]}}, steps: [{id: s, command: [a]}]}}\n"),
                "workflows.w.params", "too large"},
        BadCase{"collection_complex_key", with_auth("collections: {? [a] : {bucket: b}}\n"), "collections",
                "keys must be plain strings"},
        BadCase{"bad_yaml", "server: {listen: [\n", "", "invalid YAML"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigLoader, S3Provider) {
  auto l = load(with_auth(R"(
providers:
  platform:
    type: s3
    region: us-west-2
    endpoint: "http://127.0.0.1:7480/"
    credentials: {type: static, access_key_id: "env:CONFIG_TEST_SECRET", secret_access_key: "env:CONFIG_TEST_SECRET"}
  aws: {type: s3, region: us-east-1, credentials: {type: default, profile: science}}
default_provider: platform
)"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  ASSERT_TRUE(l.config->providers.at("platform").s3());
  const auto& p = *l.config->providers.at("platform").s3();
  EXPECT_EQ(p.endpoint, "http://127.0.0.1:7480");
  EXPECT_TRUE(p.path_style);
  const auto& keys = std::get<StaticCredentialsConfig>(p.credentials.backend);
  EXPECT_EQ(keys.access_key_id, "s3cr3t-value");
  EXPECT_EQ(keys.secret_access_key->value(), "s3cr3t-value");
  ASSERT_TRUE(l.config->providers.at("aws").s3());
  const auto& aws = *l.config->providers.at("aws").s3();
  EXPECT_FALSE(aws.path_style);
  EXPECT_EQ(aws.credentials.type(), "default");
  EXPECT_EQ(std::get<DefaultChainCredentialsConfig>(aws.credentials.backend).profile, "science");
  EXPECT_EQ(l.config->staging.provider, "platform");
}

TEST(ConfigLoader, TheLedgerBackendIsChosenByTheUrlScheme) {
  auto absent = load(with_auth(""));
  ASSERT_TRUE(absent.problems.empty()) << dump(absent);
  EXPECT_EQ(std::get<SqliteLedgerConfig>(absent.config->ledger.backend).path, kBase / "data/scigate.db");
  auto plain = load(with_auth("ledger: state/runs.db\n"));
  ASSERT_TRUE(plain.problems.empty()) << dump(plain);
  EXPECT_EQ(std::get<SqliteLedgerConfig>(plain.config->ledger.backend).path, kBase / "state/runs.db");
  auto absolute = load(with_auth("ledger: \"sqlite:/var/lib/scigate/runs.db\"\n"));
  ASSERT_TRUE(absolute.problems.empty()) << dump(absolute);
  EXPECT_EQ(absolute.config->ledger.local_folder(), "/var/lib/scigate");
}

TEST(ConfigLoader, PostgresLedgerFromAUrlOrAMapping) {
  auto scalar = load(shared("ledger: \"postgresql://scigate@db.example:5432/runs?sslmode=require\"\n"));
  ASSERT_TRUE(scalar.problems.empty()) << dump(scalar);
  const auto& pg = std::get<PostgresLedgerConfig>(scalar.config->ledger.backend);
  EXPECT_EQ(pg.url, "postgresql://scigate@db.example:5432/runs?sslmode=require");
  EXPECT_FALSE(pg.password);
  EXPECT_EQ(pg.pool_size, 4);
  EXPECT_EQ(pg.statement_timeout, std::chrono::seconds(5));
  EXPECT_EQ(scalar.config->ledger.local_folder(), "");  // nothing kept beside a file
  EXPECT_TRUE(
      has_problem(load(with_auth("ledger: \"postgresql://scigate@db/runs\"\n")), "ledger", "needs server.signing_key"));

  auto map =
      load(shared("ledger: {url: \"postgres://scigate@10.0.0.5/runs\", password: env:CONFIG_TEST_SECRET, pool_size: 8, "
                  "statement_timeout: 2s}\n"));
  ASSERT_TRUE(map.problems.empty()) << dump(map);
  const auto& mapped = std::get<PostgresLedgerConfig>(map.config->ledger.backend);
  EXPECT_EQ(mapped.url, "postgres://scigate@10.0.0.5/runs");
  ASSERT_TRUE(mapped.password);
  EXPECT_EQ(mapped.password->value(), "s3cr3t-value");
  EXPECT_EQ(mapped.password->reference(), "env:CONFIG_TEST_SECRET");
  EXPECT_EQ(mapped.pool_size, 8);
  EXPECT_EQ(mapped.statement_timeout, std::chrono::seconds(2));

  auto sqlite_map = load(shared("ledger: {url: \"sqlite:state/runs.db\"}\n"));
  ASSERT_TRUE(sqlite_map.problems.empty()) << dump(sqlite_map);
  EXPECT_EQ(std::get<SqliteLedgerConfig>(sqlite_map.config->ledger.backend).path, kBase / "state/runs.db");
}

TEST(ConfigLoader, PostgresLedgerRefusesAPasswordInItsUrl) {
  auto in_userinfo = load(shared("ledger: \"postgresql://scigate:hunter2@db/runs\"\n"));
  EXPECT_TRUE(has_problem(in_userinfo, "ledger", "set ledger.password to a secret reference")) << dump(in_userinfo);
  EXPECT_EQ(dump(in_userinfo).find("hunter2"), std::string::npos);
  auto in_query = load(shared("ledger: {url: \"postgresql://scigate@db/runs?sslmode=require&password=hunter2\"}\n"));
  EXPECT_TRUE(has_problem(in_query, "ledger.url", "ledger.password")) << dump(in_query);
  EXPECT_EQ(dump(in_query).find("hunter2"), std::string::npos);
  // A user name alone, or a colon in the host part (IPv6), is no password.
  EXPECT_TRUE(load(shared("ledger: \"postgresql://scigate@[::1]:5432/runs\"\n")).problems.empty());
  EXPECT_TRUE(load(shared("ledger: \"postgresql://db.example:5432/runs?user=scigate\"\n")).problems.empty());
}

TEST(ConfigLoader, LedgerMappingProblems) {
  EXPECT_TRUE(has_problem(load(shared("ledger: {url: \"postgresql://s@db/r\", pool_size: 0}\n")), "ledger.pool_size",
                          "between 1 and"));
  EXPECT_TRUE(has_problem(load(shared("ledger: {url: \"postgresql://s@db/r\", statement_timeout: soon}\n")),
                          "ledger.statement_timeout", "duration"));
  EXPECT_TRUE(
      has_problem(load(shared("ledger: {url: \"postgresql://s@db/r\", password: hunter2}\n")), "ledger.password", ""));
  EXPECT_TRUE(
      has_problem(load(shared("ledger: {url: \"postgresql://s@db/r\", pool: 3}\n")), "ledger.pool", "unknown key"));
  EXPECT_TRUE(has_problem(load(shared("ledger: {pool_size: 3}\n")), "ledger.url", "is required"));
  EXPECT_TRUE(has_problem(load(shared("ledger: {url: \"sqlite:x.db\", pool_size: 3}\n")), "ledger.pool_size",
                          "only for a PostgreSQL ledger"));
  EXPECT_TRUE(has_problem(load(shared("ledger: [a, b]\n")), "ledger", "must be a URL"));
}

TEST(ConfigLoader, RasterCachesHaveDefaultsAndTakeSizesWithUnits) {
  auto defaults = load(with_auth(""));
  ASSERT_TRUE(defaults.problems.empty()) << dump(defaults);
  EXPECT_EQ(defaults.config->raster.cache_bytes, 256u << 20);
  auto l = load(
      with_auth("raster: {cache_bytes: 64MiB, header_cache_entries: 50, revalidate_after: 5m, fetch_threads: 4}\n"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  EXPECT_EQ(l.config->raster.cache_bytes, 64u << 20);
  EXPECT_EQ(l.config->raster.header_cache_entries, 50u);
  EXPECT_EQ(l.config->raster.revalidate_after, std::chrono::minutes(5));
  EXPECT_EQ(l.config->raster.fetch_threads, 4);
  EXPECT_EQ(load(with_auth("raster: {cache_bytes: 1GiB}\n")).config->raster.cache_bytes, 1u << 30);
  EXPECT_EQ(load(with_auth("raster: {cache_bytes: 1048576}\n")).config->raster.cache_bytes, 1u << 20);
  EXPECT_EQ(defaults.config->raster.grant_ttl, std::chrono::hours(1));
  EXPECT_EQ(defaults.config->raster.max_image_pixels, 2048 * 2048);
  EXPECT_EQ(defaults.config->raster.png_level, 2);
  auto tiler = load(with_auth("raster: {grant_ttl: 12h, max_image_pixels: 1000000, png_level: 6}\n"));
  ASSERT_TRUE(tiler.problems.empty()) << dump(tiler);
  EXPECT_EQ(tiler.config->raster.grant_ttl, std::chrono::hours(12));
  EXPECT_EQ(tiler.config->raster.max_image_pixels, 1000000);
  EXPECT_EQ(tiler.config->raster.png_level, 6);
  EXPECT_TRUE(has_problem(load(with_auth("raster: {png_level: 0}\n")), "raster.png_level", "between 1 and 9"));
  EXPECT_TRUE(has_problem(load(with_auth("raster: {max_image_pixels: -5}\n")), "raster.max_image_pixels", ""));
}

TEST(ConfigLoader, RasterProblemsNameFileLineAndKey) {
  auto l = load(with_auth("raster:\n  cache_bytes: lots\n  fetch_threads: 0\n  bogus: 1\n"));
  EXPECT_NE(dump(l).find("config.yaml:3: raster.cache_bytes: must be a size like 256MiB"), std::string::npos)
      << dump(l);
  EXPECT_NE(dump(l).find("config.yaml:4: raster.fetch_threads: must be between 1 and 256"), std::string::npos)
      << dump(l);
  EXPECT_NE(dump(l).find("config.yaml:5: raster.bogus: unknown key"), std::string::npos) << dump(l);
  EXPECT_TRUE(has_problem(load(with_auth("raster: {cache_bytes: 12XB}\n")), "raster.cache_bytes", "size"));
  EXPECT_TRUE(has_problem(load(with_auth("raster: {cache_bytes: 99999999999999TiB}\n")), "raster.cache_bytes", ""));
}

TEST(ConfigLoader, ReportsEveryProblemWithLineNumbers) {
  auto l = load("auth: {jwt: {secret: hunter2}}\nbogus: 1\nengine: {max_parallel_runs: x}\n");
  EXPECT_GE(l.problems.size(), 3u) << dump(l);
  EXPECT_NE(dump(l).find("config.yaml:2: bogus: unknown key"), std::string::npos) << dump(l);
}

TEST(ConfigLoader, SecretFileRelativeToConfigFolder) {
  auto dir = std::filesystem::temp_directory_path() / ("scigate-cfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "jwt-secret") << "from-file\n";
  auto l = load_config_text("auth: {jwt: {secret: file:jwt-secret}}\n", dir / "c.yaml", dir);
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  EXPECT_EQ(l.config->jwt.secret.value(), "from-file");
  std::filesystem::remove_all(dir);
}

TEST(ConfigLoader, MissingFileIsAProblem) {
  auto l = load_config_file("/nonexistent/scigate.yaml");
  EXPECT_FALSE(l.config);
  ASSERT_EQ(l.problems.size(), 1u);
}

TEST(ConfigLoader, AirflowEngine) {
  auto l = load(with_auth(R"(
engine:
  type: airflow
  url: "https://airflow.example.org/"
  api: v2
  timeout: 5s
  dag_cache_ttl: 30s
  auth: {type: airflow3-password, username: scigate, password: env:CONFIG_TEST_SECRET}
workflows:
  etl: {description: From the config}
collections:
  images: {bucket: b, workflows: {etl: {authorized_users: [thomas]}, not_in_workflows: {authorized_users: [thomas]}}}
)"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  ASSERT_EQ(l.config->engine.type(), "airflow");
  const auto& e = *l.config->engine.airflow();
  EXPECT_EQ(e.url, "https://airflow.example.org");
  EXPECT_EQ(e.api, "v2");
  EXPECT_EQ(e.timeout, std::chrono::seconds(5));
  EXPECT_EQ(e.dag_cache_ttl, std::chrono::seconds(30));
  EXPECT_EQ(e.auth.username, "scigate");
  EXPECT_EQ(e.auth.password->value(), "s3cr3t-value");
  EXPECT_EQ(e.auth.token_url, "https://airflow.example.org/auth/token");
  EXPECT_TRUE(l.config->workflows.at("etl").steps.empty());
}

TEST(ConfigLoader, AirflowMwaaModesTakeCredentialsLikeProviders) {
  auto l = load(with_auth(R"(
engine:
  type: airflow
  auth:
    type: mwaa-invoke-rest-api
    environment: prod-env
    region: us-west-2
    credentials: {type: sts-assume-role, role_arn: "arn:aws:iam::1:role/x", base: {type: default}}
)"));
  ASSERT_TRUE(l.problems.empty()) << dump(l);
  EXPECT_EQ(l.config->engine.airflow()->auth.mwaa_endpoint, "https://env.airflow.us-west-2.amazonaws.com");
  EXPECT_EQ(l.config->engine.airflow()->auth.credentials.type(), "sts-assume-role");
  const auto& role = std::get<AssumeRoleCredentialsConfig>(l.config->engine.airflow()->auth.credentials.backend);
  EXPECT_EQ(role.sts_region, "us-west-2");
  EXPECT_EQ(role.base->type(), "default");
}

TEST(ConfigLoader, AirflowEngineProblems) {
  auto l = load(with_auth(R"(
engine:
  type: airflow
  api: v3
  max_parallel_runs: 2
  auth: {type: basic, username: admin, password: hunter2}
)"));
  EXPECT_TRUE(has_problem(l, "engine.url", "is required")) << dump(l);
  EXPECT_TRUE(has_problem(l, "engine.api", "v1 (Airflow 2) or v2 (Airflow 3)")) << dump(l);
  EXPECT_TRUE(has_problem(l, "engine.max_parallel_runs", "unknown")) << dump(l);
  EXPECT_TRUE(has_problem(l, "engine.auth.password", "by reference")) << dump(l);
  auto m = load(with_auth("engine: {type: airflow, url: 'http://a', auth: {type: mwaa-web-login}}\n"));
  EXPECT_TRUE(has_problem(m, "engine.auth.environment", "is required")) << dump(m);
  EXPECT_TRUE(has_problem(m, "engine.auth.region", "is required")) << dump(m);
  auto k = load(with_auth("engine: {type: airflow, url: 'http://a', auth: {type: kerberos}}\n"));
  EXPECT_TRUE(has_problem(k, "engine.auth.type", "unsupported auth type")) << dump(k);
  auto t = load(with_auth("engine: {type: celery}\n"));
  EXPECT_TRUE(has_problem(t, "engine.type", "supported: local, airflow")) << dump(t);
}

}  // namespace
// Links signed with the generated key must survive a restart: the key is created once,
// private to the server's user, and read back unchanged.
TEST(SigningKeyFile, CreatedOnceWithMode600AndReadBack) {
  testing::TempDir dir;
  auto path = dir.path() / "data" / "signing.key";
  auto first = load_or_create_key_file(path);
  ASSERT_TRUE(first) << first.error().client;
  EXPECT_EQ(first->value().size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_or_create_key_file(path);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value(), first->value());
  ::chmod(path.c_str(), 0644);
  auto exposed = load_or_create_key_file(path);
  ASSERT_FALSE(exposed);
  EXPECT_NE(exposed.error().client.find("chmod 600"), std::string::npos);
}

}  // namespace scigate
