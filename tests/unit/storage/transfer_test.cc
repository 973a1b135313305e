#include "storage/transfer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "fakes/faulty_store.h"
#include "storage/local_store.h"
#include "temp_dir.h"

namespace fs = std::filesystem;

namespace scigate {
namespace {

using testing::FaultyStore;
using testing::TempDir;

std::string content(int i) { return "object " + std::to_string(i) + std::string(i % 97, 'x'); }
std::string key(int i) { return "d" + std::to_string(i % 7) + "/s" + std::to_string(i % 3) + "/f" + std::to_string(i); }

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class TransferTest : public ::testing::Test {
 protected:
  TransferTest() : store_("local", dir_.path() / "buckets", "http://gw", "key"), faulty_(store_) {}
  void put_objects(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(store_.put("b", "in/" + key(i), content(i)));
    ASSERT_TRUE(store_.put("b", "other/not-this.txt", "outside the prefix"));
  }
  // Every file under `dest`: each must be a whole object (none half-written, no temporary).
  size_t check_files(const fs::path& dest) {
    size_t n = 0;
    if (!fs::exists(dest)) return n;  // a failure before the first file
    for (auto& e : fs::recursive_directory_iterator(dest)) {
      if (!e.is_regular_file()) continue;
      EXPECT_NE(e.path().filename().string().rfind(kTempPrefix, 0), 0u) << e.path();
      int i = std::stoi(e.path().filename().string().substr(1));
      EXPECT_EQ(e.path().lexically_relative(dest).generic_string(), key(i));
      EXPECT_EQ(read(e.path()), content(i)) << e.path();
      ++n;
    }
    return n;
  }
  TempDir dir_;
  LocalObjectStore store_;
  FaultyStore faulty_;
  fs::path dest_ = dir_.path() / "dest";
};

TEST_F(TransferTest, DownloadsEveryObjectOverSeveralPagesKeepingPaths) {
  put_objects(2500);  // three listing pages
  auto stats = download_prefix(faulty_, "b", "in/", dest_, 8);
  ASSERT_TRUE(stats) << stats.error().internal;
  EXPECT_EQ(stats->files, 2500u);
  uint64_t bytes = 0;
  for (int i = 0; i < 2500; ++i) bytes += content(i).size();
  EXPECT_EQ(stats->bytes, bytes);
  EXPECT_EQ(check_files(dest_), 2500u);
  EXPECT_EQ(faulty_.lists, 3);
  EXPECT_FALSE(fs::exists(dest_ / "not-this.txt"));
}

TEST_F(TransferTest, DownloadsRunAtOnceUpToTheBound) {
  put_objects(40);
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0, in_flight = 0, most = 0;
  // The first four downloads wait for each other: only parallel downloads meet (a serial
  // loop would see one at a time, each giving up after the deadline).
  faulty_.before_get = [&](int n, const std::string&) -> Status {
    std::unique_lock lock(mu);
    most = std::max(most, ++in_flight);
    if (n <= 4) {
      ++arrived;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return arrived >= 4; });
    }
    --in_flight;
    return ok_status();
  };
  auto stats = download_prefix(faulty_, "b", "in/", dest_, 4);
  ASSERT_TRUE(stats) << stats.error().internal;
  EXPECT_EQ(most, 4);
  EXPECT_EQ(check_files(dest_), 40u);
}

TEST_F(TransferTest, FirstFailedDownloadStopsTheRestAndIsReturned) {
  put_objects(300);
  faulty_.before_get = [](int n, const std::string& k) -> Status {
    if (n == 20) return Error{ErrorCode::kUpstreamFailed, "injected failure on " + k, "storage failed"};
    return ok_status();
  };
  std::atomic<int> started_when_failed{0};
  faulty_.after_get = [&](int n, const Status& result) {
    if (n == 20) started_when_failed = faulty_.gets.load();
  };
  auto stats = download_prefix(faulty_, "b", "in/", dest_, 4);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_NE(stats.error().internal.find("injected failure"), std::string::npos);
  // Once the failure was known, the 3 other workers finished what they had; none went on.
  ASSERT_GT(started_when_failed, 0);
  EXPECT_LE(faulty_.gets, started_when_failed + 3);
  EXPECT_LT(check_files(dest_), static_cast<size_t>(faulty_.gets.load()));
}

TEST_F(TransferTest, ListingFailureMidwayIsReturned) {
  put_objects(1500);
  faulty_.before_list = [](int n) -> Status {
    if (n == 2) return Error{ErrorCode::kUpstreamTimeout, "injected listing timeout", "storage timed out"};
    return ok_status();
  };
  auto stats = download_prefix(faulty_, "b", "in/", dest_, 4);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_LE(check_files(dest_), 1000u);
}

TEST_F(TransferTest, EmptyPrefixDownloadsNothing) {
  auto stats = download_prefix(faulty_, "b", "nothing/", dest_, 4);
  ASSERT_TRUE(stats) << stats.error().internal;
  EXPECT_EQ(stats->files, 0u);
}

TEST_F(TransferTest, UploadFolderSendsEveryFile) {
  fs::path src = dir_.path() / "src";
  for (int i = 0; i < 50; ++i) {
    fs::create_directories((src / key(i)).parent_path());
    std::ofstream(src / key(i), std::ios::binary) << content(i);
  }
  auto stats = upload_folder(faulty_, "b", "out/", src, 4);
  ASSERT_TRUE(stats) << stats.error().internal;
  EXPECT_EQ(stats->files, 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(store_.get("b", "out/" + key(i)).value(), content(i));
}

}  // namespace
}  // namespace scigate
