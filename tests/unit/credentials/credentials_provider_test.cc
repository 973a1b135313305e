#include "credentials/credentials_provider.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "temp_dir.h"

namespace scigate {
namespace {

class DefaultChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                          "AWS_SHARED_CREDENTIALS_FILE"}) {
      ::unsetenv(v);
    }
    std::ofstream(dir_.path() / "credentials") << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = "
                                                  "s-default\n\n[science]\naws_access_key_id=AKSCIENCE\n"
                                                  "aws_secret_access_key=s-science\naws_session_token=tok\n";
  }
  testing::TempDir dir_;
};

TEST_F(DefaultChain, EnvironmentComesFirst) {
  ::setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "s-env", 1);
  ::setenv("AWS_SESSION_TOKEN", "t-env", 1);
  DefaultChainCredentials chain("p", "", dir_.path() / "credentials");
  auto c = chain.current();
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->access_key_id, "AKENV");
  EXPECT_EQ((*c)->session_token, "t-env");
  EXPECT_EQ(chain.describe(), "default (environment)");
}

TEST_F(DefaultChain, SharedFileAndProfile) {
  DefaultChainCredentials by_default("p", "", dir_.path() / "credentials");
  EXPECT_EQ(by_default.current().value()->access_key_id, "AKDEFAULT");
  DefaultChainCredentials named("p", "science", dir_.path() / "credentials");
  auto c = named.current();
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->secret_access_key, "s-science");
  EXPECT_EQ((*c)->session_token, "tok");
  ::setenv("AWS_PROFILE", "science", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_.path() / "credentials").c_str(), 1);
  DefaultChainCredentials from_env("p", "", "");
  EXPECT_EQ(from_env.current().value()->access_key_id, "AKSCIENCE");
}

TEST_F(DefaultChain, NothingFoundIs503NamingTheProvider) {
  DefaultChainCredentials chain("lpdaac", "missing-profile", dir_.path() / "credentials");
  auto c = chain.current();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(c.error().client.find("lpdaac"), std::string::npos);
  EXPECT_EQ(c.error().client.find("s-default"), std::string::npos);
}

TEST(StaticCredentialsTest, FromConfig) {
  ProviderConfig p;
  p.name = "platform";
  p.credentials.type = "static";
  p.credentials.access_key_id = "AK";
  p.credentials.secret_access_key = Secret("env:X", "sk");
  auto provider = make_credentials(p.name, p.credentials, nullptr);
  ASSERT_TRUE(provider);
  EXPECT_EQ((*provider)->current().value()->secret_access_key, "sk");
  EXPECT_EQ((*provider)->describe(), "static");
}

}  // namespace
}  // namespace scigate
