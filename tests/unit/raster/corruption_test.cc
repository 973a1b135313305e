// Hostile files: truncated and bit-flipped variants of valid COGs (deterministic seeds),
// the same COGs with single IFD fields rewritten (absurd sizes, tile counts, sample
// layouts, codecs, tile offsets and byte counts past the end, IFD loops), hand-made
// TIFFs, and files that are no TIFF at all. Each goes through the real reader path
// (RasterReaders over a MemoryStore: open, windows of every level, a map tile through
// the warp) and must end with a value or a 4xx Error, never a crash or a 5xx, within
// bounded memory (allocation_probe). Run once under -fsanitize=address,undefined too.
#include <gtest/gtest.h>
#include <tiffio.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include "allocation_probe.h"
#include "fakes/memory_store.h"
#include "raster/layer.h"
#include "raster/raster_readers.h"
#include "raster/tms.h"
#include "raster_fixtures.h"

namespace scigate::raster {
namespace {

using testing::MemoryStore;

// What a hostile header may make the reader allocate at once: one decoded block or one
// libtiff tag array (64 MiB caps each) plus slack; live bytes for a whole variant (its
// windows, the tile and the block cache of 4 MiB).
constexpr size_t kMaxSingleAllocation = 80 << 20;
constexpr int64_t kMaxPeakGrowth = 512 << 20;
// Far above any variant's real cost (milliseconds): only a hang or a runaway loop ends here.
constexpr auto kMaxVariantTime = std::chrono::seconds(20);

bool is_clean_message(const std::string& m) {
  return m == "ok" || m == "not a TIFF" || m.rfind("corrupt TIFF: ", 0) == 0 || m.rfind("unsupported TIFF: ", 0) == 0 ||
         m == "window too large";
}

bool is_client_error(ErrorCode code) { return http_status(code) >= 400 && http_status(code) < 500; }

// A map tile as the /cog/tiles endpoint renders it: the raster's centre at its max zoom
// in WebMercatorQuad, every band. Any failure must be a 4xx.
void render_tiles(CogReader& reader, const std::string& label) {
  const RasterInfo& info = reader.info();
  const TileMatrixSet& tms = *find_tile_matrix_set("WebMercatorQuad");
  auto geo = transform_bounds(raster_bounds(info), info.crs, tms.geographic_crs);
  if (!geo) {
    EXPECT_TRUE(is_client_error(geo.error().code)) << label << ": " << geo.error().internal;
    return;
  }
  const ZoomRange zooms = zoom_range(info, tms);
  auto tile = tms.tile_at((geo->left + geo->right) / 2, (geo->bottom + geo->top) / 2, zooms.maxzoom);
  if (!tile) {
    EXPECT_TRUE(is_client_error(tile.error().code)) << label << ": " << tile.error().internal;
    return;
  }
  auto grid = tile_grid(tms, *tile);
  ASSERT_TRUE(grid) << label;
  auto layer = read_layer(reader, *grid, LayerOptions{});
  if (!layer) {
    EXPECT_TRUE(is_client_error(layer.error().code)) << label << ": " << layer.error().internal;
  }
}

// Opens `bytes` and reads every level with every band (at most 8): the top-left 256 x 256
// and the bottom-right 128 x 128 pixels, then a map tile. Returns how the reader ended:
// "ok" or the first error's client message; checks time and memory.
std::string exercise(RasterReaders& readers, MemoryStore& store, const std::string& key, const std::string& bytes,
                     const std::string& label) {
  EXPECT_TRUE(store.put("b", key, bytes));
  const auto started = std::chrono::steady_clock::now();
  testing::allocation_probe::reset();
  std::string outcome = "ok";
  auto r = readers.open("mem", "b", key);
  if (!r) {
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << label << ": " << r.error().internal;
    outcome = r.error().client;
  } else {
    const RasterInfo& info = (*r)->info();
    std::vector<int> bands;
    for (int b = 1; b <= std::min(info.band_count, 8); ++b) bands.push_back(b);
    for (size_t l = 0; l < info.levels.size(); ++l) {
      const Level& level = info.levels[l];
      for (Window w : {Window{0, 0, std::min(level.width, 256), std::min(level.height, 256)},
                       Window{level.width - 100, level.height - 100, 128, 128}}) {
        auto img = (*r)->read(static_cast<int>(l), w, bands);
        if (img) continue;
        EXPECT_EQ(img.error().code, ErrorCode::kBadRequest) << label << ": " << img.error().internal;
        if (outcome == "ok") outcome = img.error().client;
      }
    }
    render_tiles(**r, label);
  }
  if (testing::allocation_probe::enabled()) {
    EXPECT_LE(testing::allocation_probe::largest_request(), kMaxSingleAllocation) << label;
    EXPECT_LE(testing::allocation_probe::peak_growth(), kMaxPeakGrowth) << label;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, kMaxVariantTime) << label;
  EXPECT_TRUE(is_clean_message(outcome)) << label << ": " << outcome;
  return outcome;
}

// Reads and rewrites the IFD chain of a TIFF or BigTIFF of either byte order.
class TiffPatcher {
 public:
  struct Entry {
    uint16_t tag = 0;
    uint16_t type = 0;
    uint64_t count = 0;
    size_t at = 0;         // the entry in its IFD
    size_t values_at = 0;  // its values (inline or elsewhere)
  };
  struct Ifd {
    uint64_t offset = 0;
    std::vector<Entry> entries;
    size_t next_at = 0;  // the next-IFD offset field
  };

  explicit TiffPatcher(std::string bytes) : bytes_(std::move(bytes)) {
    little_ = bytes_[0] == 'I';
    big_ = get(2, 2) == 43;
    uint64_t offset = big_ ? get(8, 8) : get(4, 4);
    std::set<uint64_t> seen;
    while (offset != 0 && offset < bytes_.size() && seen.insert(offset).second) {
      Ifd ifd{offset, {}, 0};
      const uint64_t n = get(offset, big_ ? 8 : 2);
      size_t at = offset + (big_ ? 8 : 2);
      for (uint64_t i = 0; i < n; ++i, at += entry_size()) {
        Entry e{static_cast<uint16_t>(get(at, 2)), static_cast<uint16_t>(get(at + 2, 2)), get(at + 4, big_ ? 8 : 4), at,
                0};
        const size_t value_field = at + (big_ ? 12 : 8);
        e.values_at = e.count * type_size(e.type) <= (big_ ? 8u : 4u) ? value_field : get(value_field, big_ ? 8 : 4);
        ifd.entries.push_back(e);
      }
      ifd.next_at = at;
      ifds_.push_back(ifd);
      offset = get(at, big_ ? 8 : 4);
    }
  }

  const std::vector<Ifd>& ifds() const { return ifds_; }
  const std::string& bytes() const { return bytes_; }
  bool big() const { return big_; }
  size_t entry_size() const { return big_ ? 20 : 12; }

  std::optional<Entry> find(size_t ifd, uint16_t tag) const {
    if (ifd >= ifds_.size()) return std::nullopt;
    for (const auto& e : ifds_[ifd].entries) {
      if (e.tag == tag) return e;
    }
    return std::nullopt;
  }
  // Value `index` of an integer field (BYTE, SHORT, LONG, LONG8, IFD8).
  uint64_t value(const Entry& e, uint64_t index = 0) const {
    return get(e.values_at + index * type_size(e.type), type_size(e.type));
  }
  // Sets value `index` of an integer field, cut to the field's width.
  TiffPatcher& set(const Entry& e, uint64_t v, uint64_t index = 0) {
    put(e.values_at + index * type_size(e.type), v, type_size(e.type));
    return *this;
  }
  TiffPatcher& set_all(const Entry& e, uint64_t v) {
    for (uint64_t i = 0; i < e.count; ++i) set(e, v, i);
    return *this;
  }
  TiffPatcher& set_double(const Entry& e, double v, uint64_t index = 0) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put(e.values_at + index * 8, bits, 8);
    return *this;
  }
  TiffPatcher& set_count(const Entry& e, uint64_t count) {
    put(e.at + 4, count, big_ ? 8 : 4);
    return *this;
  }
  TiffPatcher& set_type(const Entry& e, uint16_t type) {
    put(e.at + 2, type, 2);
    return *this;
  }
  TiffPatcher& set_next(size_t ifd, uint64_t offset) {
    put(ifds_[ifd].next_at, offset, big_ ? 8 : 4);
    return *this;
  }
  TiffPatcher& set_entry_count(size_t ifd, uint64_t n) {
    put(ifds_[ifd].offset, n, big_ ? 8 : 2);
    return *this;
  }

  static int type_size(uint16_t type) {
    switch (type) {
      case 3:
      case 8:
        return 2;
      case 4:
      case 9:
      case 11:
      case 13:
        return 4;
      case 5:
      case 10:
      case 12:
      case 16:
      case 17:
      case 18:
        return 8;
      default:
        return 1;
    }
  }

 private:
  uint64_t get(size_t at, int n) const {
    uint64_t v = 0;
    for (int i = 0; i < n && at + i < bytes_.size(); ++i) {
      const uint64_t byte = static_cast<uint8_t>(bytes_[at + i]);
      v |= little_ ? byte << (8 * i) : byte << (8 * (n - 1 - i));
    }
    return v;
  }
  void put(size_t at, uint64_t v, int n) {
    for (int i = 0; i < n && at + i < bytes_.size(); ++i) {
      const int shift = little_ ? 8 * i : 8 * (n - 1 - i);
      bytes_[at + i] = static_cast<char>((v >> shift) & 0xff);
    }
  }

  std::string bytes_;
  bool little_ = true;
  bool big_ = false;
  std::vector<Ifd> ifds_;
};

constexpr uint16_t kImageWidth = 256, kImageLength = 257, kBitsPerSample = 258, kCompression = 259, kPhotometric = 262,
                   kStripOffsets = 273, kSamplesPerPixel = 277, kRowsPerStrip = 278, kStripByteCounts = 279,
                   kPlanarConfig = 284, kPredictor = 317, kTileWidth = 322, kTileLength = 323, kTileOffsets = 324,
                   kTileByteCounts = 325, kExtraSamples = 338, kSampleFormat = 339, kJpegTables = 347,
                   kPixelScale = 33550, kTiePoints = 33922, kGeoKeys = 34735, kGdalNodata = 42113;

const std::vector<std::string>& corrupted_fixture_names() {
  static const std::vector<std::string> kNames{"rgb_jpeg",   "utm_u16_nodata", "rgb_mask",      "stripped_lzw_pred2",
                                               "bigtiff",    "separate",       "one_bit",       "rgb_webp",
                                               "f32_nan",    "big_endian",     "overviews_lzw", "sparse",
                                               "rgba_alpha", "gtiff_mask",     "single_strip",  "f64_pred3"};
  return kNames;
}

class Corrupted : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.cache_bytes = 4 << 20;
    readers_ = std::make_unique<RasterReaders>(StoreMap{{"mem", store_}}, config_);
  }
  std::string run(const std::string& bytes, const std::string& label) {
    // SCIGATE_CORRUPTION_DUMP=DIR keeps every variant, e.g. to replay them all through the
    // sanitized cog fuzz target (docs/FUZZING.md).
    if (const char* dump = std::getenv("SCIGATE_CORRUPTION_DUMP")) {
      std::ofstream(std::filesystem::path(dump) / ("variant-" + std::to_string(n_) + ".tif"), std::ios::binary)
          << bytes;
    }
    std::string m = exercise(*readers_, *store_, "v" + std::to_string(n_++), bytes, label);
    ++outcomes_[m.substr(0, 40)];
    largest_request_ = std::max(largest_request_, testing::allocation_probe::largest_request());
    peak_growth_ = std::max(peak_growth_, testing::allocation_probe::peak_growth());
    return m;
  }
  void TearDown() override {
    int total = 0;
    for (const auto& [outcome, count] : outcomes_) {
      std::cout << count << " x " << outcome << "\n";
      total += count;
    }
    std::cout << total << " variants; largest single allocation " << (largest_request_ >> 10)
              << " KiB, largest rise of live heap " << (peak_growth_ >> 10) << " KiB\n";
  }

  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  RasterConfig config_;
  std::unique_ptr<RasterReaders> readers_;
  std::map<std::string, int> outcomes_;
  size_t largest_request_ = 0;
  int64_t peak_growth_ = 0;
  int n_ = 0;
};

TEST_F(Corrupted, TruncatedAndBitFlippedCogsFailCleanly) {
  std::mt19937_64 rng(20240610);
  for (const std::string& name : corrupted_fixture_names()) {
    const std::string good = testing::read_file(testing::raster_fixtures() / (name + ".tif"));
    ASSERT_FALSE(good.empty());
    const TiffPatcher tiff(good);
    // Cuts inside the header, inside and right after each IFD, inside the first and
    // last blocks of each IFD, and at random places.
    std::set<size_t> cuts{0, 1, 4, 7, 8, 15, 16, 100, 500, 2000, good.size() / 2, good.size() - 1};
    for (size_t i = 0; i < tiff.ifds().size(); ++i) {
      const auto& ifd = tiff.ifds()[i];
      for (size_t c :
           {ifd.offset, ifd.offset + 1, ifd.offset + 2 + tiff.entry_size() * 3, ifd.next_at, ifd.next_at + 4}) {
        cuts.insert(c);
      }
      for (uint16_t tag : {kTileOffsets, kStripOffsets}) {
        auto e = tiff.find(i, tag);
        if (!e) continue;
        for (uint64_t k : {uint64_t{0}, e->count - 1}) {
          const uint64_t at = tiff.value(*e, k);
          for (uint64_t c : {at, at + 1, at + 50, at + 500}) cuts.insert(c);
        }
      }
    }
    for (int i = 0; i < 12; ++i) cuts.insert(rng() % good.size());
    for (size_t cut : cuts) {
      if (cut > good.size()) continue;
      run(good.substr(0, cut), name + " cut at " + std::to_string(cut));
    }
    const size_t header_end = tiff.ifds().empty() ? 4096 : tiff.ifds().back().next_at + 8;
    for (int i = 0; i < 60; ++i) {
      std::string bad = good;
      const int flips = 1 + static_cast<int>(rng() % 8);
      // Two in three in the header (IFDs, offsets, tag data), where damage matters most;
      // the others in the blocks.
      const bool in_header = i % 3 != 0;
      for (int f = 0; f < flips; ++f) {
        const size_t span = std::min(good.size(), std::max<size_t>(header_end, 64));
        const size_t at = in_header ? rng() % span : span + rng() % std::max<size_t>(1, good.size() - span);
        if (at >= bad.size()) continue;
        bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(1 + rng() % 255));
      }
      run(bad, name + " flip variant " + std::to_string(i) + (in_header ? " (header)" : " (blocks)"));
    }
  }
  // Both good and bad outcomes occurred: the variants really were exercised.
  EXPECT_GT(outcomes_["ok"], 0);
  EXPECT_GT(outcomes_.size(), 3u);
}

// One IFD field at a time set to what a broken or hostile writer might put there.
TEST_F(Corrupted, RewrittenIfdFieldsFailCleanly) {
  const std::vector<std::pair<uint16_t, std::vector<uint64_t>>> kValues{
      {kImageWidth, {0, 1, 0x7fffffff, 0xffffffff, 0x10000}},
      {kImageLength, {0, 1, 0x7fffffff, 0xffffffff, 0x10000}},
      {kTileWidth, {0, 1, 15, 16, 0x10000, 0xfffffff0}},
      {kTileLength, {0, 1, 15, 16, 0x10000, 0xfffffff0}},
      {kRowsPerStrip, {0, 1, 0xffffffff}},
      {kBitsPerSample, {0, 2, 7, 12, 24, 64, 255, 0xffff}},
      {kSamplesPerPixel, {0, 2, 4, 255, 0xffff}},
      {kSampleFormat, {0, 2, 3, 4, 5, 6, 0xffff}},
      {kCompression, {0, 2, 3, 6, 7, 32773, 34712, 34887, 50000, 50001, 0xffff}},
      {kPhotometric, {0, 2, 3, 4, 5, 6, 8, 0xffff}},
      {kPlanarConfig, {0, 2, 3}},
      {kPredictor, {0, 2, 3, 4, 0xffff}},
      {kExtraSamples, {0, 1, 2, 0xffff}},
      {kJpegTables, {0, 0xd9, 0xff}},     // its first byte
      {kGdalNodata, {0, 'n', '-', 'e'}},  // its first character
  };
  for (const char* name : {"rgb_jpeg", "utm_u16_nodata", "rgb_mask", "stripped_lzw_pred2", "bigtiff", "separate",
                           "one_bit", "big_endian", "gtiff_mask", "f64_pred3"}) {
    const std::string good = testing::read_file(testing::raster_fixtures() / (std::string(name) + ".tif"));
    const TiffPatcher tiff(good);
    for (size_t ifd = 0; ifd < tiff.ifds().size(); ++ifd) {
      const std::string where = std::string(name) + " IFD " + std::to_string(ifd) + " ";
      for (const auto& [tag, values] : kValues) {
        auto e = tiff.find(ifd, tag);
        if (!e) continue;
        for (uint64_t v : values) {
          TiffPatcher bad = tiff;
          run(bad.set(*e, v).bytes(), where + "tag " + std::to_string(tag) + " = " + std::to_string(v));
        }
        // A count or type that disagrees with the data.
        for (uint64_t count : {uint64_t{0}, e->count + 1, uint64_t{0x7fffffff}}) {
          TiffPatcher bad = tiff;
          run(bad.set_count(*e, count).bytes(),
              where + "tag " + std::to_string(tag) + " count " + std::to_string(count));
        }
        for (uint16_t type : {0, 2, 12, 99}) {
          TiffPatcher bad = tiff;
          run(bad.set_type(*e, type).bytes(), where + "tag " + std::to_string(tag) + " type " + std::to_string(type));
        }
      }
      // Block offsets and byte counts: past the end, into the header, huge, mismatched counts.
      for (uint16_t tag : {kTileOffsets, kStripOffsets, kTileByteCounts, kStripByteCounts}) {
        auto e = tiff.find(ifd, tag);
        if (!e) continue;
        const uint64_t size = good.size();
        for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{8}, size - 1, size, size + 1, uint64_t{0xffffffff},
                           uint64_t{0xffffffffffffffff}}) {
          TiffPatcher first = tiff, all = tiff;
          run(first.set(*e, v).bytes(), where + "tag " + std::to_string(tag) + "[0] = " + std::to_string(v));
          run(all.set_all(*e, v).bytes(), where + "tag " + std::to_string(tag) + "[*] = " + std::to_string(v));
        }
        for (uint64_t count : {uint64_t{0}, uint64_t{1}, e->count - 1, e->count * 2, uint64_t{0xffffff}}) {
          TiffPatcher bad = tiff;
          run(bad.set_count(*e, count).bytes(),
              where + "tag " + std::to_string(tag) + " count " + std::to_string(count));
        }
      }
      // Georeferencing doubles that are not numbers or not sizes.
      for (uint16_t tag : {kPixelScale, kTiePoints}) {
        auto e = tiff.find(0, tag);
        if (ifd != 0) break;
        if (!e) continue;
        for (double v : {0.0, -0.0, 1e-300, 1e300, std::nan(""), HUGE_VAL, -HUGE_VAL}) {
          for (uint64_t index : {uint64_t{0}, uint64_t{1}, uint64_t{3}}) {
            if (index >= e->count) continue;
            TiffPatcher bad = tiff;
            run(bad.set_double(*e, v, index).bytes(),
                where + "tag " + std::to_string(tag) + "[" + std::to_string(index) + "] = " + std::to_string(v));
          }
        }
      }
      // GeoKey directory: counts and key values.
      if (auto e = tiff.find(ifd, kGeoKeys)) {
        for (uint64_t index = 0; index < std::min<uint64_t>(e->count, 16); ++index) {
          for (uint64_t v : {uint64_t{0xffff}, uint64_t{1024}}) {
            TiffPatcher bad = tiff;
            run(bad.set(*e, v, index).bytes(),
                where + "GeoKey short " + std::to_string(index) + " = " + std::to_string(v));
          }
        }
      }
      // IFD chain: loops back to the first IFD, to itself, past the end, odd; entry
      // counts of 0 and 65535.
      const uint64_t first = tiff.ifds()[0].offset, self = tiff.ifds()[ifd].offset;
      for (uint64_t next :
           {first, self, uint64_t{good.size()}, uint64_t{good.size() + 1000}, uint64_t{1}, uint64_t{0xffffffff}}) {
        TiffPatcher bad = tiff;
        run(bad.set_next(ifd, next).bytes(), where + "next IFD = " + std::to_string(next));
      }
      for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{0xffff}}) {
        TiffPatcher bad = tiff;
        run(bad.set_entry_count(ifd, n).bytes(), where + "entry count = " + std::to_string(n));
      }
    }
  }
  EXPECT_GT(outcomes_["ok"], 0);
  EXPECT_GT(outcomes_.size(), 5u);
}

TEST_F(Corrupted, FilesThatAreNoTiffAtAll) {
  // A 1 x 1 PNG, as a .tif key.
  const char kPng[] =
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\r"
      "IDATx\x9c"
      "c\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xae"
      "B`\x82";
  const std::string png(kPng, sizeof(kPng) - 1);
  for (const auto& [label, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"zero bytes", ""},
           {"a PNG", png},
           {"text", "Hello, this is not a raster.\n"},
           {"JSON", "{\"type\": \"FeatureCollection\", \"features\": []}"},
           {"HTML error page", "<html><body>404 Not Found</body></html>"},
           {"TIFF magic only", std::string("II*\0", 4)},
           {"BigTIFF with a bad offset size", std::string("II+\0\x04\0\0\0\x10\0\0\0\0\0\0\0", 16)},
           {"first IFD past the end", std::string("MM\0*\x7f\xff\xff\xff", 8)},
           {"first IFD at 0", std::string("II*\0\0\0\0\0", 8)},
       }) {
    std::string m = run(bytes, label);
    EXPECT_NE(m, "ok") << label;
  }
  EXPECT_EQ(outcomes_["not a TIFF"], 6) << "zero bytes, PNG, text, JSON, HTML, magic only";
}

// A little-endian classic TIFF with one IFD at offset 8 (values up to 4 bytes inline,
// longer ones after the IFD).
struct TiffBuilder {
  struct Field {
    uint16_t tag;
    uint16_t type;                 // 3 SHORT, 4 LONG, 12 DOUBLE
    std::vector<uint64_t> values;  // DOUBLEs as their bits
  };
  std::vector<Field> fields;
  uint32_t next_ifd = 0;
  std::string tail;  // appended after everything (e.g. tile data)

  TiffBuilder& add(uint16_t tag, uint16_t type, std::vector<uint64_t> values) {
    fields.push_back({tag, type, std::move(values)});
    return *this;
  }
  TiffBuilder& add_doubles(uint16_t tag, const std::vector<double>& values) {
    std::vector<uint64_t> bits(values.size());
    std::memcpy(bits.data(), values.data(), values.size() * 8);
    return add(tag, 12, std::move(bits));
  }
  // EPSG:4326, pixels of `res` degrees from (left, top).
  TiffBuilder& georeference(double left, double top, double res) {
    add_doubles(33550, {res, res, 0}).add_doubles(33922, {0, 0, 0, left, top, 0});
    return add(34735, 3, {1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326});
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
      int size = f.type == 3 ? 2 : f.type == 12 ? 8 : 4;
      put(out, f.tag, 2);
      put(out, f.type, 2);
      put(out, f.values.size(), 4);
      if (f.values.size() * size <= 4) {
        std::string inline_value;
        for (uint64_t v : f.values) put(inline_value, v, size);
        inline_value.resize(4, '\0');
        out += inline_value;
      } else {
        put(out, 8 + ifd_size + extra.size(), 4);
        for (uint64_t v : f.values) put(extra, v, size);
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

// 2048 samples per pixel in 16-px tiles: each block is small (512 KiB), but a map tile
// of every band would be 256 x 256 x 2048 doubles (1 GiB). The tile is refused (400)
// before that is allocated; a tile of chosen bands works.
TEST_F(Handmade, ThousandsOfBandsDoNotMakeATileAllocateGigabytes) {
  constexpr uint32_t kBands = 2048, kSide = 16, kBlock = kSide * kSide * kBands;
  auto layout = [&](uint32_t data_at) {
    TiffBuilder t;
    t.add(256, 4, {kSide}).add(257, 4, {kSide}).add(258, 3, {8}).add(259, 3, {1}).add(262, 3, {1});
    t.add(277, 3, {kBands}).add(284, 3, {1}).add(322, 4, {kSide}).add(323, 4, {kSide});
    t.add(324, 4, {data_at}).add(325, 4, {kBlock}).georeference(10.0, 50.0, 0.01);
    return t;
  };
  auto t = layout(static_cast<uint32_t>(layout(0).build().size()));
  t.tail = std::string(kBlock, '\x05');
  auto r = open(t.build());
  ASSERT_TRUE(r) << r.error().internal;
  ASSERT_EQ((*r)->info().band_count, static_cast<int>(kBands));
  const TileMatrixSet& tms = *find_tile_matrix_set("WebMercatorQuad");
  auto tile = tms.tile_at(10.08, 49.92, 12);
  ASSERT_TRUE(tile);
  auto grid = tile_grid(tms, *tile);
  ASSERT_TRUE(grid);
  testing::allocation_probe::reset();
  auto all = read_layer(**r, *grid, LayerOptions{});
  if (testing::allocation_probe::enabled()) {
    EXPECT_LE(testing::allocation_probe::peak_growth(), kMaxPeakGrowth);
  }
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code, ErrorCode::kBadRequest) << all.error().internal;
  LayerOptions some;
  some.bidx = {1, 2048};
  auto chosen = read_layer(**r, *grid, some);
  ASSERT_TRUE(chosen) << chosen.error().internal;
  EXPECT_EQ(chosen->image.bands.size(), 2u);
}

// A user-defined CRS whose ellipsoid axis is ~1e300 (found by the cog fuzz target):
// libgeotiff's GTIFGetProj4Defn printed it into a fixed buffer and glibc's fortify
// aborted the whole process. Now the file opens without a CRS definition.
TEST_F(Handmade, AbsurdGeoKeyDoublesDoNotCrashTheProcess) {
  auto r = open(testing::read_file(SCIGATE_FUZZ_CORPUS_DIR "/cog/regression-geotiff-proj4-string-overflow.tif"));
  if (r) {
    EXPECT_EQ((*r)->info().crs.definition.find("+a="), std::string::npos) << (*r)->info().crs.definition;
  } else {
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  }
}

// The probe behind the memory bounds above sees what libraries allocate with malloc.
TEST(AllocationProbe, SeesLibraryAllocations) {
  if (!testing::allocation_probe::enabled()) GTEST_SKIP() << "under AddressSanitizer";
  testing::allocation_probe::reset();
  void* p = _TIFFmalloc(100 << 20);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(testing::allocation_probe::largest_request(), size_t{100} << 20);
  EXPECT_GE(testing::allocation_probe::peak_growth(), int64_t{100} << 20);
  _TIFFfree(p);
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
