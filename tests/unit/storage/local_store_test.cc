#include "storage/local_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.h"

namespace scigate {
namespace {

using testing::TempDir;

class LocalStoreTest : public ::testing::Test {
 protected:
  LocalStoreTest() : store_("local", root(), "http://gw", "fixed-key") {}
  // The store lives one level down, so that escapes land in a folder only this test uses.
  std::filesystem::path root() const { return dir_.path() / "root"; }
  std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  TempDir dir_;
  LocalObjectStore store_;
};

TEST_F(LocalStoreTest, PutGetHeadDelete) {
  ASSERT_TRUE(store_.put("b", "a/b/c.txt", "hello world"));
  EXPECT_EQ(read(root() / "b/a/b/c.txt"), "hello world");
  auto info = store_.head("b", "a/b/c.txt");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(store_.get("b", "a/b/c.txt").value(), "hello world");
  EXPECT_EQ(store_.get("b", "a/b/c.txt", ByteRange{6, 7}).value(), "wo");
  EXPECT_EQ(store_.get("b", "a/b/c.txt", ByteRange{6, std::nullopt}).value(), "world");
  EXPECT_FALSE(store_.get("b", "a/b/c.txt", ByteRange{50, std::nullopt}));
  ASSERT_TRUE(store_.remove("b", "a/b/c.txt"));
  EXPECT_EQ(store_.head("b", "a/b/c.txt").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_.remove("b", "a/b/c.txt"));  // idempotent, like S3
}

TEST_F(LocalStoreTest, PutReplacesAtomicallyAndLeavesNoTempFiles) {
  ASSERT_TRUE(store_.put("b", "k", "old"));
  ASSERT_TRUE(store_.put("b", "k", "new"));
  EXPECT_EQ(store_.get("b", "k").value(), "new");
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(root() / "b")) ++n;
  EXPECT_EQ(n, 1u);
}

TEST_F(LocalStoreTest, KeysWithSpacesUnicodeAndSpecials) {
  for (std::string key : {"sp ace/f i le.txt", "unicod\xC3\xA9/\xE6\x97\xA5.png", "a+b=c%d.txt"}) {
    ASSERT_TRUE(store_.put("b", key, key)) << key;
    EXPECT_EQ(store_.get("b", key).value(), key);
  }
}

TEST_F(LocalStoreTest, ListWithDelimiterAndContinuation) {
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "run/f%02d.txt", i);
    ASSERT_TRUE(store_.put("b", name, "x"));
  }
  ASSERT_TRUE(store_.put("b", "run/sub/deep.txt", "x"));
  ASSERT_TRUE(store_.put("b", "other/o.txt", "x"));

  ListRequest req{"b", "run/", "/", "", 10};
  std::vector<std::string> keys, prefixes;
  int pages = 0;
  do {
    auto page = store_.list(req);
    ASSERT_TRUE(page);
    for (auto& o : page->objects) keys.push_back(o.key);
    for (auto& p : page->common_prefixes) prefixes.push_back(p);
    req.continuation_token = page->next_token;
    ++pages;
  } while (!req.continuation_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(keys.size(), 25u);
  EXPECT_EQ(keys.front(), "run/f00.txt");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(prefixes, (std::vector<std::string>{"run/sub/"}));

  auto recursive = store_.list({"b", "run/", "", "", 1000});
  ASSERT_TRUE(recursive);
  EXPECT_EQ(recursive->objects.size(), 26u);
  EXPECT_TRUE(recursive->common_prefixes.empty());

  auto partial = store_.list({"b", "run/f1", "/", "", 1000});
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->objects.size(), 10u);

  auto everything = store_.list({"b", "", "", "", 1000});
  ASSERT_TRUE(everything);
  EXPECT_EQ(everything->objects.size(), 27u);
}

TEST_F(LocalStoreTest, ListOfMissingBucketOrPrefixIsEmpty) {
  auto page = store_.list({"nobucket", "x/", "/", "", 10});
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->objects.empty());
}

TEST_F(LocalStoreTest, RefusesKeysThatCouldEscape) {
  for (const std::string& key :
       std::vector<std::string>{"../x", "a/../../x", "/etc/passwd", "a//b", "a\\b", std::string("a\0b", 3), "", "."}) {
    EXPECT_FALSE(store_.put("b", key, "x")) << key;
    EXPECT_FALSE(store_.head("b", key)) << key;
  }
  EXPECT_FALSE(store_.put("..", "x", "x"));
  EXPECT_FALSE(store_.put("a/b", "x", "x"));
  EXPECT_FALSE(store_.list({"b", "../", "/", "", 10}));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "x"));
  EXPECT_FALSE(std::filesystem::exists(root() / "x"));
}

TEST_F(LocalStoreTest, PresignedLinksVerifyAndExpire) {
  ASSERT_TRUE(store_.put("b", "dir/file name.png", "png"));
  auto url = store_.presign_get("b", "dir/file name.png", std::chrono::minutes(10));
  ASSERT_TRUE(url);
  EXPECT_EQ(url->rfind("http://gw/files/local/b/dir/file%20name.png?expires=", 0), 0u) << *url;
  std::string expires = url->substr(url->find("expires=") + 8, url->find("&sig=") - url->find("expires=") - 8);
  std::string sig = url->substr(url->find("&sig=") + 5);
  auto now = std::chrono::system_clock::now();
  auto file = store_.open_signed("b", "dir/file name.png", expires, sig, now);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size, 3u);

  std::string tampered = sig;
  tampered[0] = tampered[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(store_.open_signed("b", "dir/file name.png", expires, tampered, now).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(store_.open_signed("b", "dir/other.png", expires, sig, now).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(
      store_.open_signed("b", "dir/file name.png", std::to_string(std::stoll(expires) + 1), sig, now).error().code,
      ErrorCode::kForbidden);
  EXPECT_EQ(store_.open_signed("b", "dir/file name.png", expires, sig, now + std::chrono::minutes(11)).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(store_.open_signed("b", "dir/file name.png", "abc", sig, now).error().code, ErrorCode::kForbidden);
  // A store with another key does not accept these links.
  LocalObjectStore other("local", root(), "http://gw", "another-key");
  EXPECT_FALSE(other.open_signed("b", "dir/file name.png", expires, sig, now));
}

TEST_F(LocalStoreTest, PutFileAndGetToFile) {
  std::ofstream(dir_.path() / "src.bin") << "payload";
  ASSERT_TRUE(store_.put_file("b", "x/y.bin", dir_.path() / "src.bin"));
  ASSERT_TRUE(store_.get_to_file("b", "x/y.bin", dir_.path() / "out/copy.bin"));
  EXPECT_EQ(read(dir_.path() / "out/copy.bin"), "payload");
  EXPECT_EQ(store_.get_to_file("b", "missing", dir_.path() / "z").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace scigate
