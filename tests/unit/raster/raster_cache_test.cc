// What the reader's caches save, counted at the store: header once per (key, ETag),
// blocks once, adjacent blocks in one GET, concurrent requests for a block in one GET,
// and a bounded block cache.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes/counting_store.h"
#include "fakes/memory_store.h"
#include "raster/raster_readers.h"
#include "raster_fixtures.h"

namespace scigate::raster {
namespace {

using namespace std::chrono_literals;
using testing::CountingStore;
using testing::MemoryStore;
using testing::raster_fixtures;

std::string fixture(const std::string& name) { return testing::read_file(raster_fixtures() / (name + ".tif")); }

struct Rig {
  explicit Rig(RasterConfig config = {}, const std::string& name = "rgb_deflate") {
    memory = std::make_shared<MemoryStore>("prov");
    EXPECT_TRUE(memory->put("b", "k.tif", fixture(name)));
    counting = std::make_shared<CountingStore>(memory);
    readers = std::make_unique<RasterReaders>(StoreMap{{"prov", counting}}, config, [this] { return now; });
  }
  std::shared_ptr<CogReader> open() {
    auto r = readers->open("prov", "b", "k.tif");
    EXPECT_TRUE(r) << (r ? "" : r.error().internal);
    return r ? *r : nullptr;
  }
  std::shared_ptr<MemoryStore> memory;
  std::shared_ptr<CountingStore> counting;
  std::unique_ptr<RasterReaders> readers;
  std::chrono::steady_clock::time_point now{};
};

TEST(RasterCache, HeaderIsReadOncePerKeyAndEtag) {
  Rig s;
  auto first = s.open();
  ASSERT_TRUE(first);
  EXPECT_EQ(s.counting->heads, 1);
  EXPECT_EQ(s.counting->gets, 1);  // a COG's header lies in its first 64 KiB
  auto again = s.open();
  EXPECT_EQ(again, first);
  EXPECT_EQ(s.counting->heads, 1);  // within revalidate_after: no request at all
  EXPECT_EQ(s.counting->gets, 1);
  EXPECT_EQ(s.readers->header_stats().parses, 1u);
}

TEST(RasterCache, AfterRevalidateAfterAHeadChecksTheEtagAndAChangedEtagRereads) {
  RasterConfig config;
  config.revalidate_after = 10s;
  Rig s(config);
  auto first = s.open();
  ASSERT_TRUE(first);
  s.now += 11s;
  auto same = s.open();
  EXPECT_EQ(same, first);  // same ETag: same parsed header, no GET
  EXPECT_EQ(s.counting->heads, 2);
  EXPECT_EQ(s.counting->gets, 1);
  EXPECT_EQ(s.readers->header_stats().revalidations, 1u);

  // The object is replaced: a new ETag, a new header, the new pixels.
  ASSERT_TRUE(s.memory->put("b", "k.tif", fixture("utm_u16_nodata")));
  s.now += 11s;
  auto changed = s.open();
  ASSERT_TRUE(changed);
  EXPECT_NE(changed, first);
  EXPECT_EQ(s.readers->header_stats().parses, 2u);
  EXPECT_EQ(changed->info().width, 700);
  EXPECT_EQ(changed->info().type, DataType::kUInt16);
}

TEST(RasterCache, ASecondReadOfTheSameWindowCostsNoGet) {
  Rig s;
  auto reader = s.open();
  ASSERT_TRUE(reader);
  s.counting->reset();
  auto a = reader->read(0, {10, 10, 100, 100}, {1, 2, 3});
  ASSERT_TRUE(a);
  EXPECT_EQ(s.counting->gets, 1);
  auto b = reader->read(0, {10, 10, 100, 100}, {3});
  ASSERT_TRUE(b);
  EXPECT_EQ(s.counting->gets, 1);
  EXPECT_EQ(b->bands[0], a->bands[2]);
  EXPECT_GE(s.readers->block_stats().hits, 1u);
  // Another reader object for the same file and ETag shares the blocks.
  auto reopened = s.readers->open("prov", "b", "k.tif");
  ASSERT_TRUE(reopened);
  ASSERT_TRUE((*reopened)->read(0, {10, 10, 100, 100}, {1}));
  EXPECT_EQ(s.counting->gets, 1);
}

TEST(RasterCache, AWindowOverFourAdjacentBlocksCostsOneGet) {
  Rig s;
  auto reader = s.open();
  ASSERT_TRUE(reader);
  s.counting->reset();
  // 256-px blocks: this window touches blocks (0,0), (1,0), (0,1), (1,1).
  auto img = reader->read(0, {200, 200, 112, 112}, {1, 2, 3});
  ASSERT_TRUE(img);
  EXPECT_EQ(s.counting->gets, 1);
  auto ranges = s.counting->ranges();
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_TRUE(ranges[0].last.has_value());  // a range, never the whole object
}

TEST(RasterCache, BlocksFarApartAreFetchedInSeparateGetsOfJustTheirBytes) {
  Rig s({}, "noise_none");  // 2048 x 512 uncompressed, 256-px blocks: a block row is 512 KiB
  auto reader = s.open();
  ASSERT_TRUE(reader);
  s.counting->reset();
  ASSERT_TRUE(reader->read(0, {0, 200, 10, 100}, {1}));  // blocks (0,0) and (0,1)
  EXPECT_EQ(s.counting->gets, 2);
  EXPECT_EQ(s.counting->bytes, 2u * 256 * 256);
}

TEST(RasterCache, ConcurrentReadsOfOneBlockShareOneGet) {
  Rig s;
  auto reader = s.open();
  ASSERT_TRUE(reader);
  s.counting->reset();
  constexpr int kThreads = 6;
  // The first block GET waits until every other read has joined it.
  std::atomic<bool> held{false};
  s.counting->before_get = [&](const ByteRange&) {
    if (held.exchange(true)) return;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (s.readers->block_stats().joined < kThreads - 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] { ok += reader->read(0, {0, 0, 50, 50}, {1}).ok(); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, kThreads);
  EXPECT_EQ(s.counting->gets, 1);
  EXPECT_EQ(s.readers->block_stats().joined, static_cast<uint64_t>(kThreads - 1));
}

TEST(RasterCache, BlockCacheStaysWithinItsBudgetAndEvictsLeastRecentlyUsed) {
  RasterConfig config;
  config.cache_bytes = 500 << 10;  // two 256x256 RGB blocks (196 KiB each), not three
  Rig s(config);
  auto reader = s.open();
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->read(0, {0, 0, 600, 500}, {1}));  // all six blocks
  auto stats = s.readers->block_stats();
  EXPECT_LE(stats.bytes, config.cache_bytes);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.evictions, 4u);
  s.counting->reset();
  ASSERT_TRUE(reader->read(0, {0, 0, 10, 10}, {1}));  // block (0,0) was evicted
  EXPECT_EQ(s.counting->gets, 1);
}

TEST(RasterCache, ConcurrentOpensShareOneHeadAndOneParse) {
  Rig s;
  std::atomic<bool> held{false};
  s.counting->before_get = [&](const ByteRange&) {
    if (!held.exchange(true)) std::this_thread::sleep_for(50ms);  // widens the window; counts decide
  };
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<CogReader>> got(5);
  for (int i = 0; i < 5; ++i) threads.emplace_back([&, i] { got[i] = s.open(); });
  for (auto& t : threads) t.join();
  for (auto& g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(s.counting->heads, 1);
  EXPECT_EQ(s.counting->gets, 1);
}

TEST(RasterCache, VerdictsOnAFileAreCachedStoreFailuresAreNot) {
  Rig s;
  ASSERT_TRUE(s.memory->put("b", "text.tif", "hello, this is not a TIFF at all"));
  auto r = s.readers->open("prov", "b", "text.tif");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(r.error().client, "not a TIFF");
  int gets = s.counting->gets;
  EXPECT_FALSE(s.readers->open("prov", "b", "text.tif"));
  EXPECT_EQ(s.counting->gets, gets);

  auto missing = s.readers->open("prov", "b", "nope.tif");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  int heads = s.counting->heads;
  EXPECT_FALSE(s.readers->open("prov", "b", "nope.tif"));
  EXPECT_EQ(s.counting->heads, heads + 1);  // asked again: it may exist now

  auto unknown = s.readers->open("other", "b", "k.tif");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST(RasterCache, HeaderCacheKeepsAtMostItsEntries) {
  RasterConfig config;
  config.header_cache_entries = 2;
  Rig s(config);
  for (const char* k : {"a.tif", "b.tif", "c.tif"}) {
    ASSERT_TRUE(s.memory->put("b", k, fixture("u32_none")));
    ASSERT_TRUE(s.readers->open("prov", "b", k));
  }
  EXPECT_EQ(s.readers->header_stats().entries, 2u);
  int heads = s.counting->heads;
  ASSERT_TRUE(s.readers->open("prov", "b", "a.tif"));  // evicted first: read again
  EXPECT_EQ(s.counting->heads, heads + 1);
}

TEST(RasterCache, MetricsCountGetsBytesAndHitsPerProvider) {
  Rig s;
  auto reader = s.open();
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->read(0, {0, 0, 10, 10}, {1}));
  ASSERT_TRUE(reader->read(0, {0, 0, 10, 10}, {1}));
  EXPECT_EQ(s.readers->io("prov").gets, 2u);
  EXPECT_EQ(s.readers->io("prov").bytes, s.counting->bytes.load());
  std::string text = s.readers->metrics_text();
  EXPECT_NE(text.find("scigate_raster_gets_total{provider=\"prov\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_raster_heads_total{provider=\"prov\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_raster_block_cache_hits_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_raster_block_cache_misses_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_raster_get_bytes_total{provider=\"prov\"} " + std::to_string(s.counting->bytes.load())),
            std::string::npos);
}

}  // namespace
}  // namespace scigate::raster
