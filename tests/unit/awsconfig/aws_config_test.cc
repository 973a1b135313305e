// Config from AWS: the SSM and Secrets Manager requests and answers, the seed's drop-in,
// aws-secretsmanager: references and ConfigSource's TTL, against an in-process fake of
// both services on a loopback port (the Python fake checks signatures with botocore).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>

#include "awsconfig/aws_json.h"
#include "awsconfig/config_source.h"
#include "catalog/config_loader.h"
#include "core/json_util.h"
#include "fakes/loopback_server.h"
#include "temp_dir.h"

namespace scigate {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(const Env& env) {
  return [env](const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
}

TEST(AwsEnvironment, RegionAndEndpointsFollowTheSdkVariables) {
  EXPECT_EQ(aws_region(lookup({{"REGION", "eu-west-1"}})), "eu-west-1");
  EXPECT_EQ(aws_region(lookup({{"REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}})), "us-east-2");
  EXPECT_EQ(aws_region(lookup({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-2"}})), "us-west-2");
  EXPECT_EQ(aws_region(lookup({})), "");

  EXPECT_EQ(aws_endpoint(kSsmService, "us-west-2", lookup({})), "https://ssm.us-west-2.amazonaws.com");
  EXPECT_EQ(aws_endpoint(kSecretsManagerService, "us-west-2", lookup({})),
            "https://secretsmanager.us-west-2.amazonaws.com");
  Env both{{"AWS_ENDPOINT_URL", "http://127.0.0.1:9/"}, {"AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:8"}};
  EXPECT_EQ(aws_endpoint(kSsmService, "us-west-2", lookup(both)), "http://127.0.0.1:8");
  EXPECT_EQ(aws_endpoint(kSecretsManagerService, "us-west-2", lookup(both)), "http://127.0.0.1:9");
}

TEST(AwsJsonClient, BuildsASignedJson11Request) {
  AwsJsonClient client(kSsmService, "us-west-2", "http://127.0.0.1:4566", nullptr, nullptr);
  AwsCredentials creds{"AKIDEXAMPLE", "secret", "session-token", std::nullopt};
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  UpstreamRequest r = client.build("GetParameter", R"({"Name":"/x","WithDecryption":true})", creds, now);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:4566/");
  std::map<std::string, std::string> h(r.headers.begin(), r.headers.end());
  EXPECT_EQ(h["Host"], "127.0.0.1:4566");
  EXPECT_EQ(h["Content-Type"], "application/x-amz-json-1.1");
  EXPECT_EQ(h["X-Amz-Target"], "AmazonSSM.GetParameter");
  EXPECT_EQ(h["X-Amz-Security-Token"], "session-token");
  EXPECT_EQ(h["X-Amz-Date"], "20231114T221320Z");
  const std::string& a = h["Authorization"];
  EXPECT_EQ(a.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-west-2/ssm/aws4_request, ", 0), 0u) << a;
  EXPECT_NE(a.find("x-amz-target"), std::string::npos) << a;
  EXPECT_NE(a.find("x-amz-security-token"), std::string::npos) << a;

  AwsJsonClient sm(kSecretsManagerService, "us-west-2", "https://secretsmanager.us-west-2.amazonaws.com", nullptr,
                   nullptr);
  UpstreamRequest s = sm.build("GetSecretValue", "{}", creds, now);
  std::map<std::string, std::string> sh(s.headers.begin(), s.headers.end());
  EXPECT_EQ(sh["X-Amz-Target"], "secretsmanager.GetSecretValue");
  EXPECT_NE(sh["Authorization"].find("/us-west-2/secretsmanager/aws4_request"), std::string::npos);
}

TEST(AwsJsonAnswers, ParameterAndSecretValues) {
  auto p = parse_get_parameter(R"({"Parameter":{"Name":"/x","Type":"SecureString","Value":"a: 1\n","Version":3}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "a: 1\n");
  for (const char* bad : {"", "[]", "{}", R"({"Parameter":{}})", R"({"Parameter":{"Value":3}})", "not json"}) {
    auto r = parse_get_parameter(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  }
  auto s = parse_get_secret_value(R"({"ARN":"arn:x","Name":"jwt","SecretString":"hunter2"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, "hunter2");
  // "\x00\xffbin" in base64, padded: a binary secret is its bytes.
  auto b = parse_get_secret_value(R"({"SecretBinary":"AP9iaW4="})");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, std::string("\x00\xff"
                            "bin",
                            5));
  EXPECT_FALSE(parse_get_secret_value(R"({"SecretBinary":"***"})"));
  EXPECT_FALSE(parse_get_secret_value(R"({"Name":"jwt"})"));
}

TEST(AwsJsonAnswers, JsonKeysOfASecret) {
  EXPECT_EQ(split_secret_id("arn:aws:secretsmanager:us-west-2:1:secret:jwt-AbC#key").id,
            "arn:aws:secretsmanager:us-west-2:1:secret:jwt-AbC");
  EXPECT_EQ(split_secret_id("arn:aws:secretsmanager:us-west-2:1:secret:jwt-AbC#key").json_key, "key");
  EXPECT_EQ(split_secret_id("jwtSecret").json_key, "");

  const std::string json = R"({"jwt":"s3cret","port":5432,"on":true,"nested":{"a":1}})";
  EXPECT_EQ(*pick_json_key(json, "jwt", "db"), "s3cret");
  EXPECT_EQ(*pick_json_key(json, "port", "db"), "5432");
  EXPECT_EQ(*pick_json_key(json, "on", "db"), "true");
  auto missing = pick_json_key(json, "password", "db");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().client.find("secret 'db' has no key 'password'"), std::string::npos);
  EXPECT_FALSE(pick_json_key(json, "nested", "db"));
  auto plain = pick_json_key("s3cret-plain", "jwt", "db");
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().client.find("s3cret"), std::string::npos);  // never the value
}

TEST(AwsJsonAnswers, ErrorsAreNamedAndClassified) {
  auto answer = [](int status, std::string body, UpstreamHeaders headers = {}) {
    return UpstreamResponse{status, std::move(headers), std::move(body)};
  };
  auto nf = aws_json_failure("SSM parameter /x", answer(400, R"({"__type":"ParameterNotFound","message":""})"),
                             "ParameterNotFound");
  EXPECT_EQ(nf.code, ErrorCode::kNotFound);
  EXPECT_NE(nf.internal.find("SSM parameter /x"), std::string::npos);
  auto rn = aws_json_failure(
      "Secrets Manager secret jwt",
      answer(400, R"({"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"gone"})"),
      "ResourceNotFoundException");
  EXPECT_EQ(rn.code, ErrorCode::kNotFound);
  EXPECT_EQ(rn.internal, "Secrets Manager secret jwt: not found (HTTP 400 ResourceNotFoundException: gone)");
  auto denied =
      aws_json_failure("SSM parameter /x", answer(400, R"({"__type":"AccessDeniedException"})"), "ParameterNotFound");
  EXPECT_EQ(denied.code, ErrorCode::kForbidden);
  EXPECT_NE(denied.client.find("AccessDeniedException"), std::string::npos);
  auto sig = aws_json_failure("x", answer(403, "{}", {{"x-amzn-errortype", "InvalidSignatureException:http://a/"}}),
                              "ParameterNotFound");
  EXPECT_EQ(sig.code, ErrorCode::kForbidden);
  EXPECT_NE(sig.client.find("InvalidSignatureException"), std::string::npos);
  EXPECT_EQ(aws_json_failure("x", answer(400, R"({"__type":"ThrottlingException"})"), "").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(aws_json_failure("x", answer(503, ""), "").code, ErrorCode::kUnavailable);
  EXPECT_EQ(aws_json_failure("x", answer(400, R"({"__type":"ValidationException"})"), "").code,
            ErrorCode::kUpstreamFailed);
}

// ---- seed mode --------------------------------------------------------------------

const Env kSeedEnv{{"MWAA_ENV_NAME", "labcas-env"},
                   {"S3_BUCKET_STAGING", "labcas-staging"},
                   {"JWT_SECRET_KEY_ARN", "arn:aws:secretsmanager:us-west-2:1:secret:jwtSecret-Ab"},
                   {"REGION", "us-west-2"}};
const char* kSeedYaml = R"(collections:
  nebraska_images:
    bucket: edrn-bucket
    prefix: nebraska_images/
    workflows:
      nebraska: {authorized_users: [thomas]}
)";

TEST(SeedMode, OnlyTheSeedsLayoutIsSeedMode) {
  EXPECT_FALSE(seed_config_yaml("server: {listen: '127.0.0.1:1'}\ncollections: {}\n", lookup(kSeedEnv)));
  EXPECT_FALSE(seed_config_yaml("[1, 2]", lookup(kSeedEnv)));
  EXPECT_FALSE(seed_config_yaml("collections: [\n", lookup(kSeedEnv)));  // the loader reports invalid YAML
  EXPECT_TRUE(seed_config_yaml(kSeedYaml, lookup(kSeedEnv)));
}

TEST(SeedMode, NamesTheMissingVariables) {
  Env env = kSeedEnv;
  env.erase("S3_BUCKET_STAGING");
  env.erase("REGION");
  auto full = seed_config_yaml(kSeedYaml, lookup(env));
  ASSERT_TRUE(full);
  ASSERT_FALSE(*full);
  EXPECT_NE(full->error().client.find("not set: S3_BUCKET_STAGING, REGION"), std::string::npos) << full->error().client;
}

// The synthesized YAML goes through the normal loader: resolve the JWT secret with a
// resolver standing in for Secrets Manager.
Config load_seed(const Env& env, const std::string& yaml = kSeedYaml) {
  auto full = seed_config_yaml(yaml, lookup(env));
  EXPECT_TRUE(full && *full);
  SecretResolver resolver;
  resolver.schemes["aws-secretsmanager"] = [](const std::string& rest) -> Result<std::string> {
    EXPECT_EQ(rest, "arn:aws:secretsmanager:us-west-2:1:secret:jwtSecret-Ab");
    return std::string("seed-jwt-secret");
  };
  auto load = load_config_text(full->value(), "ssm:/labcas/workflow/api/config", "/tmp", &resolver);
  EXPECT_TRUE(load.problems.empty()) << load.describe("seed") << full->value();
  return load.config ? std::move(*load.config) : Config{};
}

TEST(SeedMode, BuildsTheEquivalentConfig) {
  Config c = load_seed(kSeedEnv);
  ASSERT_NE(c.engine.airflow(), nullptr);
  const auto& auth = c.engine.airflow()->auth;
  EXPECT_EQ(auth.type, "mwaa-invoke-rest-api");
  EXPECT_EQ(auth.environment, "labcas-env");
  EXPECT_EQ(auth.region, "us-west-2");
  EXPECT_EQ(auth.mwaa_endpoint, "https://env.airflow.us-west-2.amazonaws.com");
  EXPECT_EQ(auth.credentials.type(), "default");
  ASSERT_TRUE(c.providers.count("aws"));
  const auto* s3 = c.providers.at("aws").s3();
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->region, "us-west-2");
  EXPECT_EQ(s3->endpoint, "");
  EXPECT_FALSE(s3->path_style);
  EXPECT_EQ(s3->credentials.type(), "default");
  EXPECT_EQ(c.staging.provider, "aws");
  EXPECT_EQ(c.staging.bucket, "labcas-staging");
  EXPECT_EQ(c.collections.at("nebraska_images").provider, "aws");
  EXPECT_EQ(c.collections.at("nebraska_images").authorized_users.at("nebraska"), std::vector<std::string>{"thomas"});
  EXPECT_EQ(c.jwt.secret.value(), "seed-jwt-secret");
  EXPECT_EQ(c.jwt.algorithms, std::vector<std::string>{"HS256"});
  EXPECT_EQ(c.jwt.issuer, "LabCAS");
  EXPECT_EQ(c.jwt.audience, "LabCAS");
  EXPECT_EQ(c.ledger.url, "sqlite:/tmp/scigate/scigate.db");
}

TEST(SeedMode, EndpointsAndLedgerFromTheEnvironment) {
  Env env = kSeedEnv;
  env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:7480";
  env["AWS_ENDPOINT_URL_MWAA"] = "http://127.0.0.1:8081/";
  env["SCIGATE_LEDGER"] = "sqlite:/tmp/elsewhere.db";
  Config c = load_seed(env);
  const auto* s3 = c.providers.at("aws").s3();
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->endpoint, "http://127.0.0.1:7480");
  EXPECT_TRUE(s3->path_style);
  EXPECT_EQ(c.engine.airflow()->auth.mwaa_endpoint, "http://127.0.0.1:8081");
  EXPECT_EQ(c.ledger.url, "sqlite:/tmp/elsewhere.db");
}

// A ledger on PostgreSQL needs its password and the instances' shared signing key: both
// only as references to variables, which the loader then reads.
TEST(SeedMode, PostgresLedgerWithPasswordAndSigningKeyVariables) {
  ::setenv("SCIGATE_LEDGER_PASSWORD", "pg-password", 1);
  ::setenv("SCIGATE_SIGNING_KEY", "0123456789abcdef0123456789abcdef", 1);
  Env env = kSeedEnv;
  env["SCIGATE_LEDGER"] = "postgresql://scigate@db.internal:5432/scigate";
  env["SCIGATE_LEDGER_PASSWORD"] = "pg-password";
  env["SCIGATE_SIGNING_KEY"] = "0123456789abcdef0123456789abcdef";
  Config c = load_seed(env);
  ::unsetenv("SCIGATE_LEDGER_PASSWORD");
  ::unsetenv("SCIGATE_SIGNING_KEY");
  const auto* pg = std::get_if<PostgresLedgerConfig>(&c.ledger.backend);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg->url, "postgresql://scigate@db.internal:5432/scigate");
  EXPECT_EQ(pg->password->value(), "pg-password");
  EXPECT_EQ(c.server.signing_key->value(), "0123456789abcdef0123456789abcdef");
}

TEST(SeedMode, FlowStyleAndQuotingSurvive) {
  Env env = kSeedEnv;
  env["S3_BUCKET_STAGING"] = "bucket: with # odd 'chars'";
  Config c = load_seed(env, "{collections: {a: {bucket: b}}}");
  EXPECT_EQ(c.staging.bucket, "bucket: with # odd 'chars'");
  EXPECT_EQ(c.collections.at("a").bucket, "b");
}

TEST(SeedMode, ProblemsInTheSeedsCollectionsKeepTheirLines) {
  auto full = seed_config_yaml("collections:\n  a:\n    bucket: b\n    color: red\n", lookup(kSeedEnv));
  ASSERT_TRUE(full && *full);
  SecretResolver resolver;
  resolver.schemes["aws-secretsmanager"] = [](const std::string&) -> Result<std::string> { return std::string("k"); };
  auto load = load_config_text(full->value(), "seed.yaml", "/tmp", &resolver);
  ASSERT_EQ(load.problems.size(), 1u);
  EXPECT_EQ(load.problems[0].key_path, "collections.a.color");
  EXPECT_EQ(load.problems[0].line, 4);
}

TEST(ConfigSpec, GivenThenEnvironmentThenTheSeedsParameter) {
  EXPECT_EQ(config_spec(std::string("a.yaml"), lookup({{"SCIGATE_CONFIG", "b.yaml"}})), "a.yaml");
  EXPECT_EQ(config_spec(std::nullopt, lookup({{"SCIGATE_CONFIG", "b.yaml"}, {"MWAA_ENV_NAME", "e"}})), "b.yaml");
  EXPECT_EQ(config_spec(std::nullopt, lookup({{"MWAA_ENV_NAME", "e"}})), "ssm:/labcas/workflow/api/config");
  EXPECT_EQ(config_spec(std::nullopt, lookup({})), std::nullopt);
}

TEST(SecretReferences, AwsSecretsManagerNeedsAResolver) {
  auto load = load_config_text("auth: {jwt: {secret: 'aws-secretsmanager:jwtSecret'}}\n", "c.yaml", "/tmp");
  ASSERT_EQ(load.problems.size(), 1u);
  EXPECT_EQ(load.problems[0].key_path, "auth.jwt.secret");
  EXPECT_NE(load.problems[0].reason.find("aws-secretsmanager: references cannot be resolved here"), std::string::npos);
  EXPECT_TRUE(is_secret_reference("aws-secretsmanager:x"));
}

// ---- against a fake of both services ------------------------------------------------

class FakeAws {
 public:
  FakeAws() {
    server_.router().add(
        {"POST", "/", Auth::kNone, false, [this](const RequestContext&, const Request& r) { return answer(r); }});
    url = server_.start();
  }
  Response answer(const Request& r) {
    std::lock_guard lock(mu_);
    std::string target(r.header("x-amz-target"));
    ++calls[target];
    last_token = std::string(r.header("x-amz-security-token"));
    if (r.header("content-type") != "application/x-amz-json-1.1" ||
        r.header("authorization").find("AWS4-HMAC-SHA256 Credential=AKUNIT/") != 0) {
      return Response::text(400, R"({"__type":"IncompleteSignature"})", "application/x-amz-json-1.1");
    }
    auto body = parse_json(r.body);
    if (!body || !body->is_object()) return Response::text(400, "{}", "application/x-amz-json-1.1");
    const auto& obj = body->get_object();
    if (target == "AmazonSSM.GetParameter") {
      auto it = parameters.find(string_or(obj, "Name"));
      if (it == parameters.end() || !obj.if_contains("WithDecryption") || !obj.at("WithDecryption").as_bool())
        return Response::text(400, R"({"__type":"ParameterNotFound"})", "application/x-amz-json-1.1");
      boost::json::object p{{"Parameter", boost::json::object{{"Value", it->second}}}};
      return Response::text(200, to_json_text(p), "application/x-amz-json-1.1");
    }
    if (target == "secretsmanager.GetSecretValue") {
      auto it = secrets.find(string_or(obj, "SecretId"));
      if (it == secrets.end())
        return Response::text(400, R"({"__type":"ResourceNotFoundException","message":"no such secret"})",
                              "application/x-amz-json-1.1");
      return Response::text(200, to_json_text(boost::json::object{{"SecretString", it->second}}),
                            "application/x-amz-json-1.1");
    }
    return Response::text(400, R"({"__type":"UnknownOperationException"})", "application/x-amz-json-1.1");
  }
  int count(const std::string& target) {
    std::lock_guard lock(mu_);
    return calls[target];
  }

  std::string url;
  std::map<std::string, std::string> parameters;
  std::map<std::string, std::string> secrets;
  std::map<std::string, int> calls;
  std::string last_token;

 private:
  std::mutex mu_;
  LoopbackServer server_;
};

class AwsConfigLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AWS_ACCESS_KEY_ID", "AKUNIT", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "unit-secret", 1);
    ::setenv("AWS_SESSION_TOKEN", "unit-token", 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    env_ = {{"AWS_REGION", "us-west-2"}, {"AWS_ENDPOINT_URL", fake_.url}};
  }
  void TearDown() override {
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED"})
      ::unsetenv(v);
  }
  FakeAws fake_;
  Env env_;
};

TEST_F(AwsConfigLoad, SsmParameterWithSecretsManagerSecrets) {
  fake_.parameters["/scigate/config"] =
      "auth: {jwt: {secret: 'aws-secretsmanager:db#jwt', issuer: LabCAS}}\n"
      "server: {signing_key: 'aws-secretsmanager:db#signing'}\n";
  fake_.secrets["db"] = R"({"jwt":"the-jwt-secret","signing":"0123456789abcdef0123456789abcdef"})";
  auto loaded = load_config_spec("ssm:/scigate/config", lookup(env_));
  ASSERT_TRUE(loaded) << loaded.error().internal;
  EXPECT_EQ(loaded->config.jwt.secret.value(), "the-jwt-secret");
  EXPECT_EQ(loaded->config.jwt.secret.reference(), "aws-secretsmanager:db#jwt");
  EXPECT_EQ(loaded->config.server.signing_key->value(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(loaded->config.file, "ssm:/scigate/config");
  EXPECT_FALSE(loaded->seed_mode);
  EXPECT_EQ(loaded->fingerprint.size(), 64u);
  EXPECT_EQ(fake_.count("AmazonSSM.GetParameter"), 1);
  EXPECT_EQ(fake_.count("secretsmanager.GetSecretValue"), 1);  // two keys, one call
  EXPECT_EQ(fake_.last_token, "unit-token");
}

TEST_F(AwsConfigLoad, MissingParameterOrSecretIsNamed) {
  auto missing = load_config_spec("ssm:/nope", lookup(env_));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().internal.find("SSM parameter /nope"), std::string::npos) << missing.error().internal;

  fake_.parameters["/c"] = "auth: {jwt: {secret: 'aws-secretsmanager:gone'}}\n";
  auto no_secret = load_config_spec("ssm:/c", lookup(env_));
  ASSERT_FALSE(no_secret);
  EXPECT_NE(no_secret.error().internal.find("auth.jwt.secret: Secrets Manager secret gone: not found (HTTP 400 "
                                            "ResourceNotFoundException"),
            std::string::npos)
      << no_secret.error().internal;
}

TEST_F(AwsConfigLoad, UnreachableIsUnavailable) {
  env_["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1";
  auto r = load_config_spec("ssm:/x", lookup(env_));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().internal.find("SSM unreachable"), std::string::npos);
  env_.erase("AWS_REGION");
  auto no_region = load_config_spec("ssm:/x", lookup(env_));
  ASSERT_FALSE(no_region);
  EXPECT_NE(no_region.error().internal.find("no AWS region"), std::string::npos);
}

TEST_F(AwsConfigLoad, SeedModeFromTheParameter) {
  fake_.parameters["/labcas/workflow/api/config"] = kSeedYaml;
  fake_.secrets["arn:jwt"] = "plain-jwt-secret";
  Env env = env_;
  env.insert(kSeedEnv.begin(), kSeedEnv.end());
  env["JWT_SECRET_KEY_ARN"] = "arn:jwt";
  auto spec = config_spec(std::nullopt, lookup(env));
  ASSERT_TRUE(spec);
  auto loaded = load_config_spec(*spec, lookup(env));
  ASSERT_TRUE(loaded) << loaded.error().internal;
  EXPECT_TRUE(loaded->seed_mode);
  EXPECT_EQ(loaded->config.jwt.secret.value(), "plain-jwt-secret");
  EXPECT_EQ(loaded->config.engine.type(), "airflow");
}

TEST_F(AwsConfigLoad, ConfigSourceReloadsAfterItsTtl) {
  fake_.parameters["/c"] = "auth: {jwt: {secret: 'aws-secretsmanager:jwt'}}\n";
  fake_.secrets["jwt"] = "first";
  Env env = env_;
  env["SCIGATE_CONFIG_TTL"] = "2m";
  auto source = ConfigSource::from_environment("ssm:/c", lookup(env));
  ASSERT_TRUE(source);
  EXPECT_EQ(source->ttl(), std::chrono::minutes(2));
  auto t0 = ConfigSource::Clock::now();
  EXPECT_TRUE(source->due(t0));
  auto first = source->load(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(source->fingerprint(), first->fingerprint);
  EXPECT_FALSE(source->due(t0 + std::chrono::seconds(119)));
  auto early = source->reload_if_changed(t0 + std::chrono::seconds(60));
  ASSERT_TRUE(early);
  EXPECT_FALSE(*early);
  EXPECT_EQ(fake_.count("AmazonSSM.GetParameter"), 1);

  auto same = source->reload_if_changed(t0 + std::chrono::minutes(2));
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);  // nothing changed
  EXPECT_EQ(fake_.count("AmazonSSM.GetParameter"), 2);

  fake_.secrets["jwt"] = "rotated";  // a rotated secret changes the fingerprint, the YAML does not
  auto changed = source->reload_if_changed(t0 + std::chrono::minutes(4));
  ASSERT_TRUE(changed);
  ASSERT_TRUE(*changed);
  EXPECT_EQ((*changed)->config.jwt.secret.value(), "rotated");
  EXPECT_NE((*changed)->fingerprint, first->fingerprint);

  env["SCIGATE_CONFIG_TTL"] = "soon";
  auto bad = ConfigSource::from_environment("ssm:/c", lookup(env));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().client.find("SCIGATE_CONFIG_TTL"), std::string::npos);
}

TEST_F(AwsConfigLoad, FilesStillLoadWithoutAws) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "c.yaml") << "auth: {jwt: {secret: 'file:jwt'}}\n";
  std::ofstream(dir.path() / "jwt") << "from-a-file\n";
  auto loaded = load_config_spec((dir.path() / "c.yaml").string(), lookup({}));  // no region: never needed
  ASSERT_TRUE(loaded) << loaded.error().internal;
  EXPECT_EQ(loaded->config.jwt.secret.value(), "from-a-file");
  std::ofstream(dir.path() / "jwt") << "changed\n";
  auto again = load_config_spec((dir.path() / "c.yaml").string(), lookup({}));
  ASSERT_TRUE(again);
  EXPECT_NE(again->fingerprint, loaded->fingerprint);
  auto missing = load_config_spec((dir.path() / "none.yaml").string(), lookup({}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().internal.find("cannot read config file"), std::string::npos);
}

}  // namespace
}  // namespace scigate
