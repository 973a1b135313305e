// What every ObjectStore backend guarantees (object_store_contract.h says how to run it).
#include "object_store_contract.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "unit/temp_dir.h"

namespace fs = std::filesystem;

namespace scigate::contract {
namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_P(ObjectStoreContract, PutThenGetHeadAndMissingObjects) {
  ASSERT_TRUE(store().put(bucket(), "a/b.txt", "hello, store"));
  EXPECT_EQ(store().get(bucket(), "a/b.txt").value(), "hello, store");
  auto info = store().head(bucket(), "a/b.txt");
  ASSERT_TRUE(info) << info.error().internal;
  EXPECT_EQ(info->key, "a/b.txt");
  EXPECT_EQ(info->size, 12u);
  EXPECT_FALSE(info->etag.empty());
  EXPECT_GT(info->modified.time_since_epoch().count(), 0);
  EXPECT_EQ(store().get(bucket(), "a/missing.txt").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store().head(bucket(), "a/missing.txt").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store().provider_name().empty());
}

TEST_P(ObjectStoreContract, RangedGets) {
  ASSERT_TRUE(store().put(bucket(), "r.bin", "0123456789"));
  EXPECT_EQ(store().get(bucket(), "r.bin", ByteRange{2, 5}).value(), "2345");
  EXPECT_EQ(store().get(bucket(), "r.bin", ByteRange{7, std::nullopt}).value(), "789");
  EXPECT_EQ(store().get(bucket(), "r.bin", ByteRange{0, 0}).value(), "0");
}

TEST_P(ObjectStoreContract, OverwriteReplacesTheWholeObjectAndRemoveIsIdempotent) {
  ASSERT_TRUE(store().put(bucket(), "o.txt", std::string(5000, 'x')));
  ASSERT_TRUE(store().put(bucket(), "o.txt", "short"));
  EXPECT_EQ(store().get(bucket(), "o.txt").value(), "short");
  EXPECT_EQ(store().head(bucket(), "o.txt")->size, 5u);
  ASSERT_TRUE(store().remove(bucket(), "o.txt"));
  EXPECT_EQ(store().get(bucket(), "o.txt").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store().remove(bucket(), "o.txt"));  // as S3: deleting a missing object succeeds
}

TEST_P(ObjectStoreContract, ListingWithAndWithoutDelimiter) {
  for (const char* key : {"p/x.txt", "p/sub/y.txt", "p/sub/z.txt", "p/w.txt", "q/other.txt"})
    ASSERT_TRUE(store().put(bucket(), key, key));
  auto folder = store().list({bucket(), "p/", "/", "", 1000});
  ASSERT_TRUE(folder) << folder.error().internal;
  std::vector<std::string> keys;
  for (const auto& o : folder->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"p/w.txt", "p/x.txt"}));
  EXPECT_EQ(folder->common_prefixes, std::vector<std::string>{"p/sub/"});
  EXPECT_TRUE(folder->next_token.empty());
  EXPECT_EQ(folder->objects[0].size, 7u);

  auto all = store().list({bucket(), "p/", "", "", 1000});
  ASSERT_TRUE(all);
  keys.clear();
  for (const auto& o : all->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"p/sub/y.txt", "p/sub/z.txt", "p/w.txt", "p/x.txt"}));
  EXPECT_TRUE(all->common_prefixes.empty());

  auto none = store().list({bucket(), "nothing/", "/", "", 1000});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->objects.empty());
  EXPECT_TRUE(none->common_prefixes.empty());
}

TEST_P(ObjectStoreContract, ContinuationVisitsEveryKeyOnceInOrder) {
  std::vector<std::string> written;
  for (int i = 0; i < 11; ++i) {
    written.push_back("page/k" + std::to_string(100 + i));
    ASSERT_TRUE(store().put(bucket(), written.back(), "v"));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = store().list({bucket(), "page/", "", token, 4});
    ASSERT_TRUE(page) << page.error().internal;
    EXPECT_LE(page->objects.size(), 4u);
    for (const auto& o : page->objects) seen.push_back(o.key);
    token = page->next_token;
    ASSERT_LT(++pages, 20) << "continuation does not end";
  } while (!token.empty());
  EXPECT_EQ(seen, written);
}

TEST_P(ObjectStoreContract, KeysWithSpacesAndNonAsciiRoundTrip) {
  const std::string key = "odd names/été 2026/a+b=c (1).txt";
  ASSERT_TRUE(store().put(bucket(), key, "odd"));
  EXPECT_EQ(store().get(bucket(), key).value(), "odd");
  auto page = store().list({bucket(), "odd names/", "", "", 1000});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, key);
}

TEST_P(ObjectStoreContract, FilesInAndOut) {
  testing::TempDir dir;
  std::string bytes(300'000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 % 251);
  std::ofstream(dir.path() / "in.bin", std::ios::binary) << bytes;
  ASSERT_TRUE(store().put_file(bucket(), "files/in.bin", dir.path() / "in.bin"));
  fs::path out = dir.path() / "deep/er/out.bin";
  ASSERT_TRUE(store().get_to_file(bucket(), "files/in.bin", out));  // creates the folders
  EXPECT_EQ(read_file(out), bytes);
  EXPECT_EQ(store().get_to_file(bucket(), "files/missing.bin", dir.path() / "m.bin").error().code,
            ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "m.bin"));  // nothing half-written
}

TEST_P(ObjectStoreContract, PresignedLinksServeTheObjectToAnyone) {
  ASSERT_TRUE(store().put(bucket(), "share/report.csv", "a,b\n1,2\n"));
  auto url = store().presign_get(bucket(), "share/report.csv", std::chrono::minutes(5));
  ASSERT_TRUE(url) << url.error().internal;
  auto fetched = sut_.fetch_link(*url);
  ASSERT_TRUE(fetched) << fetched.error().internal;
  EXPECT_EQ(*fetched, "a,b\n1,2\n");
  std::string tampered = *url;
  tampered.replace(tampered.find("report.csv"), 10, "secret.csv");
  EXPECT_FALSE(sut_.fetch_link(tampered));
}

TEST_P(ObjectStoreContract, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string key = "c/" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(store().put(bucket(), key, key));
        auto got = store().get(bucket(), key);
        EXPECT_TRUE(got && *got == key) << key;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto page = store().list({bucket(), "c/", "", "", 1000});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->objects.size(), 20u);
}

}  // namespace
}  // namespace scigate::contract
