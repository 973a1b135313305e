// The default chain (environment, web identity, shared file, container, IMDSv2) and
// static credentials. The HTTP sources are served by an in-process fake built on
// scigate's own server, on a loopback port.
#include "credentials/credentials_provider.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "credentials/sources.h"
#include "fakes/loopback_server.h"
#include "temp_dir.h"

namespace scigate {
namespace {

constexpr const char* kChainVars[] = {"AWS_ACCESS_KEY_ID",
                                      "AWS_SECRET_ACCESS_KEY",
                                      "AWS_SESSION_TOKEN",
                                      "AWS_PROFILE",
                                      "AWS_SHARED_CREDENTIALS_FILE",
                                      "AWS_WEB_IDENTITY_TOKEN_FILE",
                                      "AWS_ROLE_ARN",
                                      "AWS_ENDPOINT_URL_STS",
                                      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                      "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                      "AWS_EC2_METADATA_DISABLED"};

// Fake metadata services: container endpoint, IMDSv2 and STS web identity.
class FakeMetadata {
 public:
  FakeMetadata() {
    auto creds_json = [](const std::string& id) {
      return Response::text(
          200,
          R"({"AccessKeyId":")" + id + R"(","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"})",
          "application/json");
    };
    server_.router().add(
        {"GET", "/container-creds", Auth::kNone, false, [this, creds_json](const RequestContext&, const Request& r) {
           ++container_hits;
           if (r.header("authorization") != "container-secret") return Response::text(401, "");
           return creds_json("AKCONTAINER");
         }});
    server_.router().add({"GET", "/s3credentials", Auth::kNone, false, [this](const RequestContext&, const Request& r) {
                            ++s3credentials_hits;
                            if (r.header("authorization") != "Bearer edl-token") return Response::text(401, "");
                            return Response::text(200,
                                                  R"({"accessKeyId":"AKDAAC","secretAccessKey":"s","sessionToken":"t",)"
                                                  R"("expiration":"2099-01-01T00:00:00Z"})",
                                                  "application/json");
                          }});
    server_.router().add({"PUT", "/latest/api/token", Auth::kNone, false, [](const RequestContext&, const Request& r) {
                            if (r.header("x-aws-ec2-metadata-token-ttl-seconds").empty())
                              return Response::text(400, "");
                            return Response::text(200, "imds-token");
                          }});
    server_.router().add({"GET", "/latest/meta-data/iam/security-credentials/{role...}", Auth::kNone, false,
                          [=](const RequestContext&, const Request& r) {
                            if (r.header("x-aws-ec2-metadata-token") != "imds-token") return Response::text(401, "");
                            if (r.tail.empty()) return Response::text(200, "scigate-role\n");
                            return r.tail == "scigate-role" ? creds_json("AKINSTANCE") : Response::text(404, "");
                          }});
    server_.router().add({"POST", "/", Auth::kNone, false, [](const RequestContext&, const Request& r) {
                            if (r.body.find("Action=AssumeRoleWithWebIdentity") == std::string::npos ||
                                r.body.find("WebIdentityToken=oidc-token") == std::string::npos) {
                              return Response::text(400, "");
                            }
                            return Response::text(
                                200,
                                "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                                "<AccessKeyId>AKWEBID</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t"
                                "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
                                "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                                "text/xml");
                          }});
    base = server_.start();
  }

  std::string base;
  std::atomic<int> container_hits{0};
  std::atomic<int> s3credentials_hits{0};

 private:
  LoopbackServer server_;  // last: stopped before the counters go
};

class DefaultChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kChainVars) ::unsetenv(v);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);  // never the real link-local address
    std::ofstream(dir_.path() / "credentials") << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = "
                                                  "s-default\n\n[science]\naws_access_key_id=AKSCIENCE\n"
                                                  "aws_secret_access_key=s-science\naws_session_token=tok\n";
  }
  void TearDown() override {
    for (const char* v : kChainVars) ::unsetenv(v);
  }
  DefaultChainSource chain(const std::string& profile = "", std::filesystem::path file = {}) {
    return DefaultChainSource("lpdaac", profile, file, std::make_shared<UpstreamClient>());
  }
  testing::TempDir dir_;
};

TEST_F(DefaultChain, EnvironmentComesFirst) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "s-env", 1);
  ::setenv("AWS_SESSION_TOKEN", "t-env", 1);
  auto source = chain("", dir_.path() / "credentials");
  auto c = source.fetch();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(c->session_token, "t-env");
  EXPECT_EQ(source.describe(), "default (environment)");
}

TEST_F(DefaultChain, SharedFileAndProfile) {
  EXPECT_EQ(chain("", dir_.path() / "credentials").fetch()->access_key_id, "AKDEFAULT");
  auto named = chain("science", dir_.path() / "credentials").fetch();
  ASSERT_TRUE(named);
  EXPECT_EQ(named->secret_access_key, "s-science");
  EXPECT_EQ(named->session_token, "tok");
  ::setenv("AWS_PROFILE", "science", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_.path() / "credentials").c_str(), 1);
  EXPECT_EQ(chain().fetch()->access_key_id, "AKSCIENCE");
}

TEST_F(DefaultChain, WebIdentityContainerAndInstanceMetadata) {
  FakeMetadata fake;
  std::ofstream(dir_.path() / "token") << "oidc-token\n";
  ::setenv("AWS_WEB_IDENTITY_TOKEN_FILE", (dir_.path() / "token").c_str(), 1);
  ::setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
  ::setenv("AWS_ENDPOINT_URL_STS", fake.base.c_str(), 1);
  auto web = chain().fetch();
  ASSERT_TRUE(web) << web.error().internal;
  EXPECT_EQ(web->access_key_id, "AKWEBID");
  ASSERT_TRUE(web->expiration);
  ::unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");

  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (fake.base + "/container-creds").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-secret", 1);
  auto source = chain();
  auto container = source.fetch();
  ASSERT_TRUE(container) << container.error().internal;
  EXPECT_EQ(container->access_key_id, "AKCONTAINER");
  EXPECT_EQ(source.describe(), "default (container)");
  ::unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");

  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.base.c_str(), 1);
  auto instance = chain().fetch();
  ASSERT_TRUE(instance) << instance.error().internal;
  EXPECT_EQ(instance->access_key_id, "AKINSTANCE");
}

TEST_F(DefaultChain, NothingFoundIs503NamingTheProvider) {
  auto c = chain("missing-profile", dir_.path() / "credentials").fetch();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(c.error().client.find("lpdaac"), std::string::npos);
  EXPECT_EQ(c.error().client.find("s-default"), std::string::npos);
}

// The factory starts nothing (it used to start an assume-role's base, with its thread and
// prefetch, while building it); the role's start() starts its base, stop() stops it.
TEST(CredentialsFactory, AssumeRoleStartsItsBaseWhenStartedNotWhenBuilt) {
  FakeMetadata fake;
  EarthdataCredentialsConfig daac;
  daac.url = fake.base + "/s3credentials";
  daac.token = Secret("env:EDL_TOKEN", "edl-token");
  daac.rotation.prefetch = true;
  AssumeRoleCredentialsConfig role;
  role.role_arn = "arn:aws:iam::1:role/r";
  role.sts_region = "us-east-1";
  role.sts_endpoint = fake.base;
  role.base = std::make_shared<CredentialsConfig>(CredentialsConfig{daac});
  auto provider = make_credentials("partner", CredentialsConfig{role}, std::make_shared<UpstreamClient>());
  ASSERT_TRUE(provider) << provider.error().internal;
  EXPECT_EQ(fake.s3credentials_hits, 0);
  CredentialsState before = (*provider)->state();
  EXPECT_TRUE(before.rotating);
  EXPECT_FALSE(before.has_credentials);
  (*provider)->start();
  EXPECT_EQ(fake.s3credentials_hits, 1);  // the base's prefetch
  (*provider)->stop();
}

TEST(StaticCredentialsTest, FromConfig) {
  StaticCredentialsConfig keys;
  keys.access_key_id = "AK";
  keys.secret_access_key = Secret("env:X", "sk");
  CredentialsConfig c{keys};
  EXPECT_EQ(c.type(), "static");
  auto provider = make_credentials("platform", c, nullptr);
  ASSERT_TRUE(provider);
  EXPECT_EQ((*provider)->current().value()->secret_access_key, "sk");
  EXPECT_EQ((*provider)->describe(), "static");
  (*provider)->start();  // fixed keys: lifecycle and state are the interface's no-ops
  EXPECT_FALSE((*provider)->state().rotating);
  (*provider)->stop();
}

}  // namespace
}  // namespace scigate
