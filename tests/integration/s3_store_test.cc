// S3ObjectStore against a real, signature-checking S3 server (radosgw, started by the
// CTest fixture in tests/peers). The file RADOSGW_ENV names has the endpoint and keys.
#include "storage/s3_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "aws/sigv4.h"
#include "credentials/credentials_provider.h"
#include "fakes/faulty_store.h"
#include "peer_env.h"
#include "storage/transfer.h"

namespace fs = std::filesystem;

namespace scigate {
namespace {

std::map<std::string, std::string> peer() { return peer_env("RADOSGW_ENV"); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// VmHWM (peak resident set) in KiB.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string object_content(int i) { return "object " + std::to_string(i) + std::string(i * 37 % 5000, 'a' + i % 26); }
std::string object_key(int i) {
  return "d" + std::to_string(i % 5) + "/s" + std::to_string(i % 3) + "/f" + std::to_string(i);
}

S3ProviderConfig provider(const std::string& endpoint) {
  S3ProviderConfig p;
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
    return make(provider(endpoint.empty() ? env_["S3_ENDPOINT"] : endpoint), secret);
  }
  std::unique_ptr<S3ObjectStore> make(S3ProviderConfig p, const std::string& secret) {
    auto creds =
        std::make_shared<StaticCredentials>(AwsCredentials{env_["S3_ACCESS_KEY_ID"], secret, "", std::nullopt});
    return std::make_unique<S3ObjectStore>("platform", std::move(p), creds, std::make_shared<UpstreamClient>());
  }
  void put_objects(int n, const std::string& prefix) {
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        for (int i = t; i < n; i += 8) EXPECT_TRUE(store_->put(bucket_, prefix + object_key(i), object_content(i)));
      });
    }
    for (auto& w : writers) w.join();
  }
  // Every file under `dest` is a whole object at its key's path: none half-written, no
  // temporary left.
  size_t check_downloaded(const fs::path& dest) {
    size_t n = 0;
    if (!fs::exists(dest)) return n;  // a failure before the first file
    for (auto& e : fs::recursive_directory_iterator(dest)) {
      if (!e.is_regular_file()) continue;
      EXPECT_NE(e.path().filename().string().rfind(".scigate-tmp-", 0), 0u) << e.path();
      int i = std::stoi(e.path().filename().string().substr(1));
      EXPECT_EQ(e.path().lexically_relative(dest).generic_string(), object_key(i));
      EXPECT_TRUE(read_file(e.path()) == object_content(i)) << e.path();
      ++n;
    }
    return n;
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

TEST_F(S3StoreTest, GetToFileOfAMissingObjectLeavesNoFile) {
  fs::path dir = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  auto r = store_->get_to_file(bucket_, "missing.bin", dir / "sub/missing.bin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir / "sub/missing.bin"));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
  fs::remove_all(dir);
}

TEST_F(S3StoreTest, DownloadPrefixOfManyObjectsIsCompleteAndByteIdentical) {
  put_objects(300, "in/");
  ASSERT_TRUE(store_->put(bucket_, "other/f1", "outside the prefix"));
  fs::path dest = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  auto stats = download_prefix(*store_, bucket_, "in/", dest, 16);
  ASSERT_TRUE(stats) << stats.error().internal;
  EXPECT_EQ(stats->files, 300u);
  uint64_t bytes = 0;
  for (int i = 0; i < 300; ++i) bytes += object_content(i).size();
  EXPECT_EQ(stats->bytes, bytes);
  EXPECT_EQ(check_downloaded(dest), 300u);
  fs::remove_all(dest);
}

TEST_F(S3StoreTest, ObjectDeletedAfterTheListingFailsTheDownloadAndLeavesNoPartialFile) {
  put_objects(300, "in/");
  testing::FaultyStore faulty(*store_);
  std::string deleted;
  faulty.before_get = [&](int n, const std::string& key) -> Status {
    if (n != 50) return ok_status();
    deleted = key;
    return store_->remove(bucket_, key);  // then the real GET finds no object
  };
  std::atomic<int> started_when_failed{0};
  faulty.after_get = [&](int n, const Status& result) {
    if (n == 50 && !result) started_when_failed = faulty.gets.load();
  };
  fs::path dest = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  auto stats = download_prefix(faulty, bucket_, "in/", dest, 8);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, ErrorCode::kNotFound);
  // Once the failure was known, the 7 other workers finished what they had; none went on.
  ASSERT_GT(started_when_failed, 0);
  EXPECT_LE(faulty.gets, started_when_failed + 7);
  EXPECT_LT(check_downloaded(dest), static_cast<size_t>(faulty.gets.load()));
  EXPECT_FALSE(fs::exists(dest / deleted.substr(3)));
  fs::remove_all(dest);
}

TEST_F(S3StoreTest, PutFileOfASmallAndAnEmptyFileRoundTrips) {
  fs::path dir = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  fs::create_directories(dir);
  std::string data(100'000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  std::ofstream(dir / "small.bin", std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  std::ofstream(dir / "empty.bin").close();
  ASSERT_TRUE(store_->put_file(bucket_, "s/small.bin", dir / "small.bin"));
  ASSERT_TRUE(store_->put_file(bucket_, "s/empty.bin", dir / "empty.bin"));
  EXPECT_TRUE(store_->get(bucket_, "s/small.bin").value() == data);
  EXPECT_EQ(store_->head(bucket_, "s/small.bin")->etag.find('-'), std::string::npos);  // one PUT
  EXPECT_EQ(store_->head(bucket_, "s/empty.bin")->size, 0u);
  fs::remove_all(dir);
}

TEST_F(S3StoreTest, MultipartUploadStreamsFromTheFileWithFlatMemory) {
  S3ProviderConfig p = provider(env_["S3_ENDPOINT"]);
  p.multipart_threshold = 16 << 20;
  p.part_size = 8 << 20;
  auto store = make(p, env_["S3_SECRET_ACCESS_KEY"]);
  fs::path dir = fs::temp_directory_path() / ("s3test-" + random_hex(4));
  fs::create_directories(dir);
  Sha256 written;
  {
    std::ofstream out(dir / "big.bin", std::ios::binary);
    std::string chunk(1 << 20, '\0');
    for (int c = 0; c < 64; ++c) {
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 31 + c * 7 + i / 4096) & 0xff);
      written.update(chunk);
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
  }
  // Reset the peak RSS to the current one (Linux: "5" to clear_refs), so the growth seen
  // is the upload's: a part read into memory would add its 8 MiB.
  std::ofstream("/proc/self/clear_refs") << "5";
  long before = peak_rss_kib();
  ASSERT_GT(before, 0);
  ASSERT_TRUE(store->put_file(bucket_, "big/stream.bin", dir / "big.bin"));
  long growth_kib = peak_rss_kib() - before;
  EXPECT_LT(growth_kib, 3 * 1024) << "peak RSS grew by " << growth_kib << " KiB";
  auto info = store->head(bucket_, "big/stream.bin");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 64u << 20);
  EXPECT_NE(info->etag.find("-8"), std::string::npos) << info->etag;
  ASSERT_TRUE(store->get_to_file(bucket_, "big/stream.bin", dir / "back.bin"));
  Sha256 back;
  back.update(read_file(dir / "back.bin"));
  EXPECT_EQ(back.hex_digest(), written.hex_digest());
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
