// S3ObjectStore's addressing and presigned-link bounds, with no network: presigning is
// local computation.
#include <gtest/gtest.h>

#include "storage/s3_store.h"

namespace scigate {
namespace {

const SystemTime kAt(std::chrono::seconds(1763900000));

std::unique_ptr<S3ObjectStore> store(const std::string& endpoint, bool path_style, AwsCredentials creds) {
  S3ProviderConfig p;
  p.region = "us-west-2";
  p.endpoint = endpoint;
  p.path_style = path_style;
  return std::make_unique<S3ObjectStore>("lpdaac", p, std::make_shared<StaticCredentials>(std::move(creds)),
                                         std::make_shared<UpstreamClient>(), [] { return kAt; });
}

AwsCredentials keys() { return {"AKID", "secret", "", std::nullopt}; }

std::string param(const std::string& url, const std::string& name) {
  auto at = url.find(name + "=");
  if (at == std::string::npos) return "";
  auto end = url.find('&', at);
  return url.substr(at + name.size() + 1, end == std::string::npos ? std::string::npos : end - at - name.size() - 1);
}

TEST(S3Presign, VirtualHostedOnAws) {
  auto url = store("", false, keys())->presign_get("hls-bucket", "a b/c.tif", std::chrono::minutes(10));
  ASSERT_TRUE(url);
  EXPECT_EQ(url->rfind("https://hls-bucket.s3.us-west-2.amazonaws.com/a%20b/c.tif?", 0), 0u) << *url;
  EXPECT_EQ(param(*url, "X-Amz-Expires"), "600");
  EXPECT_EQ(param(*url, "X-Amz-Credential"), "AKID%2F20251123%2Fus-west-2%2Fs3%2Faws4_request");
  EXPECT_EQ(param(*url, "X-Amz-SignedHeaders"), "host");
}

TEST(S3Presign, PathStyleWithEndpoint) {
  auto url = store("http://127.0.0.1:7480", true, keys())->presign_get("b", "k+1=%.txt", std::chrono::minutes(1));
  ASSERT_TRUE(url);
  EXPECT_EQ(url->rfind("http://127.0.0.1:7480/b/k%2B1%3D%25.txt?", 0), 0u) << *url;
}

TEST(S3Presign, TtlIsCappedBySevenDaysAndByTheCredentials) {
  auto long_ttl = store("", false, keys())->presign_get("b", "k", std::chrono::hours(24 * 30));
  EXPECT_EQ(param(*long_ttl, "X-Amz-Expires"), "604800");
  AwsCredentials temporary{"ASIA", "secret", "token", kAt + std::chrono::seconds(90)};
  auto capped = store("", false, temporary)->presign_get("b", "k", std::chrono::minutes(10));
  ASSERT_TRUE(capped);
  EXPECT_EQ(param(*capped, "X-Amz-Expires"), "90");
  EXPECT_EQ(param(*capped, "X-Amz-Security-Token"), "token");
  AwsCredentials expired{"ASIA", "secret", "token", kAt - std::chrono::seconds(1)};
  auto refused = store("", false, expired)->presign_get("b", "k", std::chrono::minutes(10));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().client.find("lpdaac"), std::string::npos);
}

}  // namespace
}  // namespace scigate
