// Hostile files: truncated and bit-flipped variants of valid COGs (deterministic seed)
// and hand-made TIFFs with absurd sizes, IFD loops and offsets past the end. The reader
// must answer each with a value or a clean kBadRequest, never crash, never allocate
// without bound (run once under -fsanitize=address,undefined).
#include <gtest/gtest.h>

#include <iostream>
#include <random>

#include "fakes/memory_store.h"
#include "raster/raster_readers.h"
#include "raster_fixtures.h"

namespace scigate::raster {
namespace {

using testing::MemoryStore;

// Opens `bytes` and reads every level (at most 1024 x 1024 of each) with every band.
// Returns how it ended: "ok" or the error's client message.
std::string exercise(RasterReaders& readers, MemoryStore& store, const std::string& key, const std::string& bytes) {
  EXPECT_TRUE(store.put("b", key, bytes));
  auto r = readers.open("mem", "b", key);
  if (!r) {
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << key << ": " << r.error().internal;
    return r.error().client;
  }
  const RasterInfo& info = (*r)->info();
  std::vector<int> bands;
  for (int b = 1; b <= std::min(info.band_count, 8); ++b) bands.push_back(b);
  std::string outcome = "ok";
  for (size_t l = 0; l < info.levels.size(); ++l) {
    Window w{0, 0, std::min(info.levels[l].width, 1024), std::min(info.levels[l].height, 1024)};
    auto img = (*r)->read(static_cast<int>(l), w, bands);
    if (!img) {
      EXPECT_EQ(img.error().code, ErrorCode::kBadRequest) << key << ": " << img.error().internal;
      outcome = img.error().client;
    }
  }
  return outcome;
}

bool is_clean_message(const std::string& m) {
  return m == "ok" || m == "not a TIFF" || m.rfind("corrupt TIFF: ", 0) == 0 || m.rfind("unsupported TIFF: ", 0) == 0 ||
         m == "window too large";
}

TEST(Corruption, TruncatedAndBitFlippedCogsFailCleanly) {
  auto store = std::make_shared<MemoryStore>();
  RasterConfig config;
  config.cache_bytes = 4 << 20;
  RasterReaders readers({{"mem", store}}, config);
  std::mt19937_64 rng(20240610);
  std::map<std::string, int> outcomes;
  int n = 0;
  for (const char* name : {"rgb_jpeg", "utm_u16_nodata", "rgb_mask", "stripped_lzw_pred2", "bigtiff", "separate",
                           "one_bit", "rgb_webp", "f32_nan"}) {
    const std::string good = testing::read_file(testing::raster_fixtures() / (std::string(name) + ".tif"));
    ASSERT_FALSE(good.empty());
    std::vector<size_t> cuts{0, 1, 4, 7, 8, 15, 16, 100, 500, 2000, good.size() / 2, good.size() - 1};
    for (int i = 0; i < 20; ++i) cuts.push_back(rng() % good.size());
    for (size_t cut : cuts) {
      std::string m = exercise(readers, *store, "cut" + std::to_string(n++), good.substr(0, cut));
      EXPECT_TRUE(is_clean_message(m)) << name << " cut at " << cut << ": " << m;
      ++outcomes[m.substr(0, 20)];
    }
    for (int i = 0; i < 150; ++i) {
      std::string bad = good;
      int flips = 1 + static_cast<int>(rng() % 8);
      // Mostly in the header (IFDs, offsets, tag data), where damage matters most.
      size_t span = (i % 3 != 0) ? std::min<size_t>(good.size(), 4096) : good.size();
      for (int f = 0; f < flips; ++f) {
        size_t at = rng() % span;
        bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + rng() % 255));
      }
      std::string m = exercise(readers, *store, "flip" + std::to_string(n++), bad);
      EXPECT_TRUE(is_clean_message(m)) << name << " flip variant " << i << ": " << m;
      ++outcomes[m.substr(0, 20)];
    }
  }
  for (const auto& [outcome, count] : outcomes) std::cout << count << " x " << outcome << "\n";
  // Both good and bad outcomes occurred: the variants really were exercised.
  EXPECT_GT(outcomes["ok"], 0);
  EXPECT_GT(outcomes.size(), 2u);
}

// A little-endian classic TIFF with one IFD at offset 8 (values up to 4 bytes inline,
// longer ones after the IFD).
struct TiffBuilder {
  struct Field {
    uint16_t tag;
    uint16_t type;  // 3 SHORT, 4 LONG
    std::vector<uint32_t> values;
  };
  std::vector<Field> fields;
  uint32_t next_ifd = 0;
  std::string tail;  // appended after everything (e.g. tile data)

  TiffBuilder& add(uint16_t tag, uint16_t type, std::vector<uint32_t> values) {
    fields.push_back({tag, type, std::move(values)});
    return *this;
  }
  std::string build() const {
    std::string out("II*\0\x08\0\0\0", 8);
    auto put = [&](std::string& s, uint64_t v, int n) {
      for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    size_t ifd_size = 2 + 12 * fields.size() + 4;
    std::string extra;
    put(out, fields.size(), 2);
    for (const auto& f : fields) {
      int size = f.type == 3 ? 2 : 4;
      put(out, f.tag, 2);
      put(out, f.type, 2);
      put(out, f.values.size(), 4);
      if (f.values.size() * size <= 4) {
        std::string inline_value;
        for (uint32_t v : f.values) put(inline_value, v, size);
        inline_value.resize(4, '\0');
        out += inline_value;
      } else {
        put(out, 8 + ifd_size + extra.size(), 4);
        for (uint32_t v : f.values) put(extra, v, size);
      }
    }
    put(out, next_ifd, 4);
    return out + extra + tail;
  }
};

TiffBuilder tiled(uint32_t width, uint32_t height, uint32_t tile, uint32_t offset, uint32_t count) {
  TiffBuilder t;
  t.add(256, 4, {width}).add(257, 4, {height}).add(258, 3, {8}).add(259, 3, {1}).add(262, 3, {1});
  t.add(277, 3, {1}).add(322, 4, {tile}).add(323, 4, {tile}).add(324, 4, {offset}).add(325, 4, {count});
  return t;
}

class Handmade : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  RasterReaders readers{{{"mem", store}}, RasterConfig{}};
  int n = 0;

  Result<std::shared_ptr<CogReader>> open(const std::string& bytes) {
    std::string key = "t" + std::to_string(n++);
    EXPECT_TRUE(store->put("b", key, bytes));
    return readers.open("mem", "b", key);
  }
};

TEST_F(Handmade, AValidHandmadeTiffReads) {
  auto t = tiled(16, 16, 16, 0, 256);
  std::string bytes = t.build();
  uint32_t data_at = static_cast<uint32_t>(bytes.size());
  t = tiled(16, 16, 16, data_at, 256);
  t.tail = std::string(256, '\x07');
  auto r = open(t.build());
  ASSERT_TRUE(r) << r.error().internal;
  auto img = (*r)->read(0, {0, 0, 16, 16}, {1});
  ASSERT_TRUE(img) << img.error().internal;
  EXPECT_EQ(img->at(0, 15, 15), 7.0);
}

TEST_F(Handmade, AbsurdSizesAreRefusedBeforeAllocating) {
  // 2^31-1 square in 16-px tiles: 2^54 tiles.
  auto r = open(tiled(0x7fffffff, 0x7fffffff, 16, 200, 10).build());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  // 65536-px tiles: a 4 GiB block would be a decompression bomb's target.
  auto big_tile = open(tiled(65536, 65536, 65536, 200, 10).build());
  ASSERT_FALSE(big_tile);
  EXPECT_EQ(big_tile.error().code, ErrorCode::kBadRequest);
  // Width 0.
  EXPECT_FALSE(open(tiled(0, 16, 16, 200, 10).build()));
}

TEST_F(Handmade, AnIfdLoopEndsTheChain) {
  auto t = tiled(16, 16, 16, 0, 0);
  t.next_ifd = 8;  // points back at itself
  auto r = open(t.build());
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_EQ((*r)->info().levels.size(), 1u);
}

TEST_F(Handmade, BlocksPastTheEndOfTheFileAreCorrupt) {
  auto r = open(tiled(16, 16, 16, 1u << 30, 256).build());
  ASSERT_TRUE(r) << r.error().internal;
  auto img = (*r)->read(0, {0, 0, 16, 16}, {1});
  ASSERT_FALSE(img);
  EXPECT_EQ(img.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(img.error().client, "corrupt TIFF: block past the end of the file");
  auto huge_count = open(tiled(16, 16, 16, 100, 0xffffffffu).build());
  ASSERT_TRUE(huge_count);
  EXPECT_FALSE((*huge_count)->read(0, {0, 0, 16, 16}, {1}));
}

TEST_F(Handmade, NotATiff) {
  for (std::string bytes :
       {std::string(), std::string("II"), std::string("GIF89a........"), std::string("II*\0\xff\xff\xff\x7f", 8),
        std::string("MM\0+\0\x08\0\0\0\0\0\0\0\0\0\x10", 16)}) {
    auto r = open(bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_TRUE(is_clean_message(r.error().client)) << r.error().client;
  }
}

}  // namespace
}  // namespace scigate::raster
