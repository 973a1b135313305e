// S3ObjectStore against a real, signature-checking S3 server (radosgw, started by the
// CTest fixture in tests/peers). The file RADOSGW_ENV names has the endpoint and keys.
#include "storage/s3_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "credentials/credentials_provider.h"
#include "peer_env.h"

namespace fs = std::filesystem;

namespace scigate {
namespace {

std::map<std::string, std::string> peer() { return peer_env("RADOSGW_ENV"); }

ProviderConfig provider(const std::string& endpoint) {
  ProviderConfig p;
  p.name = "platform";
  p.type = "s3";
  p.region = "us-east-1";
  p.endpoint = endpoint;
  p.path_style = true;
  p.multipart_threshold = 6 << 20;
  p.part_size = 5 << 20;
  p.max_retries = 2;
  p.connect_timeout = std::chrono::milliseconds(1000);
  return p;
}

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = peer();
    ASSERT_FALSE(env_["S3_ENDPOINT"].empty()) << "RADOSGW_ENV not set or empty";
    store_ = make(env_["S3_SECRET_ACCESS_KEY"]);
    bucket_ = "unit-" + random_hex(4);
    ASSERT_TRUE(store_->create_bucket(bucket_));
  }
  std::unique_ptr<S3ObjectStore> make(const std::string& secret, const std::string& endpoint = "") {
    auto creds =
        std::make_shared<StaticCredentials>(AwsCredentials{env_["S3_ACCESS_KEY_ID"], secret, "", std::nullopt});
    return std::make_unique<S3ObjectStore>(provider(endpoint.empty() ? env_["S3_ENDPOINT"] : endpoint), creds,
                                           std::make_shared<UpstreamClient>());
  }
  std::map<std::string, std::string> env_;
  std::unique_ptr<S3ObjectStore> store_;
  std::string bucket_;
  UpstreamClient http_;
};

TEST_F(S3StoreTest, PutHeadGetRangeDelete) {
  ASSERT_TRUE(store_->put(bucket_, "dir/a.txt", "hello world"));
  auto info = store_->head(bucket_, "dir/a.txt");
  ASSERT_TRUE(info) << info.error().internal;
  EXPECT_EQ(info->size, 11u);
  EXPECT_GT(info->modified.time_since_epoch().count(), 0);
  EXPECT_EQ(store_->get(bucket_, "dir/a.txt").value(), "hello world");
  EXPECT_EQ(store_->get(bucket_, "dir/a.txt", ByteRange{6, 7}).value(), "wo");
  EXPECT_EQ(store_->get(bucket_, "dir/a.txt", ByteRange{6, std::nullopt}).value(), "world");
  ASSERT_TRUE(store_->remove(bucket_, "dir/a.txt"));
  auto gone = store_->head(bucket_, "dir/a.txt");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->get(bucket_, "missing").error().code, ErrorCode::kNotFound);
}

TEST_F(S3StoreTest, KeysWithSpacesUnicodePlusPercentEquals) {
  std::vector<std::string> keys{"sp ace/f i le.txt", "unicod\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.png", "a+b=c%d.txt",
                                "q?x#y&z.txt", "tilde~/x"};
  for (const auto& k : keys) {
    ASSERT_TRUE(store_->put(bucket_, k, k)) << k;
    EXPECT_EQ(store_->get(bucket_, k).value(), k);
    EXPECT_TRUE(store_->head(bucket_, k)) << k;
  }
  auto page = store_->list({bucket_, "", "", "", 1000});
  ASSERT_TRUE(page);
  std::vector<std::string> listed;
  for (auto& o : page->objects) listed.push_back(o.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(listed, keys);
  for (const auto& k : keys) {
    auto url = store_->presign_get(bucket_, k, std::chrono::minutes(5));
    ASSERT_TRUE(url);
    auto r = http_.send({"GET", *url, {}, "", std::nullopt, std::chrono::seconds(10)});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << k << " " << r->body;
    EXPECT_EQ(r->body, k);
  }
}

TEST_F(S3StoreTest, ListsWithDelimiterAndContinuationPastOneThousand) {
  // 2,100 objects in parallel, then page through them 1,000 at a time.
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < 2100; i += 8) {
        char key[40];
        std::snprintf(key, sizeof key, "many/obj-%05d", i);
        EXPECT_TRUE(store_->put(bucket_, key, "x"));
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(store_->put(bucket_, "many/sub/deep.txt", "y"));
  ListRequest req{bucket_, "many/", "/", "", 1000};
  size_t objects = 0, pages = 0;
  std::vector<std::string> prefixes;
  do {
    auto page = store_->list(req);
    ASSERT_TRUE(page) << page.error().internal;
    objects += page->objects.size();
    for (auto& p : page->common_prefixes) prefixes.push_back(p);
    req.continuation_token = page->next_token;
    ++pages;
  } while (!req.continuation_token.empty());
  EXPECT_EQ(objects, 2100u);
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(prefixes, std::vector<std::string>{"many/sub/"});
}

TEST_F(S3StoreTest, MultipartUploadAboveThresholdAndDownloadToFile) {
  fs::path dir = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  fs::create_directories(dir);
  std::string data(13 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 31 + i / 4096) & 0xff);
  std::ofstream(dir / "big.bin", std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(store_->put_file(bucket_, "big/big.bin", dir / "big.bin"));
  auto info = store_->head(bucket_, "big/big.bin");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_NE(info->etag.find("-3"), std::string::npos) << info->etag;  // three parts
  ASSERT_TRUE(store_->get_to_file(bucket_, "big/big.bin", dir / "back.bin"));
  std::ifstream back(dir / "back.bin", std::ios::binary);
  std::string read_back((std::istreambuf_iterator<char>(back)), {});
  EXPECT_TRUE(read_back == data);
  fs::remove_all(dir);
}

TEST_F(S3StoreTest, PresignedLinksWorkAndFailWhenTamperedOrExpired) {
  ASSERT_TRUE(store_->put(bucket_, "p/file.txt", "presigned"));
  auto url = store_->presign_get(bucket_, "p/file.txt", std::chrono::seconds(2));
  ASSERT_TRUE(url);
  EXPECT_EQ(http_.send({"GET", *url, {}, "", std::nullopt, std::chrono::seconds(10)})->body, "presigned");
  std::string tampered = *url;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(http_.send({"GET", tampered, {}, "", std::nullopt, std::chrono::seconds(10)})->status, 403);
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(http_.send({"GET", *url, {}, "", std::nullopt, std::chrono::seconds(10)})->status, 403);
}

TEST_F(S3StoreTest, WrongSecretIs502NamingTheProviderNotTheSecret) {
  auto bad = make("not-the-right-secret-at-all");
  auto r = bad->list({bucket_, "", "/", "", 10});
  ASSERT_FALSE(r);
  EXPECT_EQ(http_status(r.error().code), 502);
  EXPECT_NE(r.error().client.find("platform"), std::string::npos) << r.error().client;
  EXPECT_NE(r.error().client.find("SignatureDoesNotMatch"), std::string::npos) << r.error().client;
  EXPECT_EQ(r.error().client.find("not-the-right"), std::string::npos);
  EXPECT_EQ(r.error().internal.find("not-the-right"), std::string::npos);
}

TEST_F(S3StoreTest, UnreachableEndpointIs503AfterBoundedRetries) {
  auto down = make(env_["S3_SECRET_ACCESS_KEY"], "http://127.0.0.1:9");
  auto t0 = std::chrono::steady_clock::now();
  auto r = down->head(bucket_, "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(http_status(r.error().code), 503);
  EXPECT_NE(r.error().client.find("'platform' is unreachable"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace
}  // namespace scigate
