// The COG reader against GDAL: for every test raster (COG and plain GTiff layouts,
// codecs, predictors, masks, overviews), what the reader says and decodes must equal
// what GDAL says and decodes, exactly.
#include "raster/cog_reader.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "fakes/memory_store.h"
#include "raster/raster_readers.h"
#include "raster_fixtures.h"

namespace scigate::raster {
namespace {

namespace json = boost::json;
using testing::MemoryStore;
using testing::raster_fixtures;

struct Opened {
  std::shared_ptr<MemoryStore> store;
  std::unique_ptr<RasterReaders> readers;
  std::shared_ptr<CogReader> reader;
};

Opened open_fixture(const std::string& name) {
  Opened o;
  o.store = std::make_shared<MemoryStore>();
  EXPECT_TRUE(o.store->put("b", name + ".tif", testing::read_file(raster_fixtures() / (name + ".tif"))));
  o.readers = std::make_unique<RasterReaders>(StoreMap{{"mem", o.store}}, RasterConfig{});
  auto r = o.readers->open("mem", "b", name + ".tif");
  EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().internal);
  if (r) o.reader = *r;
  return o;
}

std::string gdal_type(DataType t) {
  static const std::map<std::string, std::string> kNames{
      {"uint8", "Byte"},  {"uint16", "UInt16"},   {"int16", "Int16"},    {"uint32", "UInt32"},
      {"int32", "Int32"}, {"float32", "Float32"}, {"float64", "Float64"}};
  return kNames.at(data_type_name(t));
}

double number(const json::value& v) {
  return v.is_double() ? v.as_double() : static_cast<double>(v.to_number<int64_t>());
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

class AgainstGdal : public ::testing::TestWithParam<std::string> {};

TEST_P(AgainstGdal, InfoMatchesGdalinfo) {
  const std::string name = GetParam();
  auto o = open_fixture(name);
  ASSERT_TRUE(o.reader);
  const RasterInfo& info = o.reader->info();
  auto gi = json::parse(testing::read_file(raster_fixtures() / (name + ".info.json"))).as_object();
  auto expect = json::parse(testing::read_file(raster_fixtures() / (name + ".expect.json"))).as_object();
  const auto& bands = gi.at("bands").as_array();
  const auto& band1 = bands[0].as_object();

  EXPECT_EQ(info.width, gi.at("size").as_array()[0].to_number<int>());
  EXPECT_EQ(info.height, gi.at("size").as_array()[1].to_number<int>());
  EXPECT_EQ(info.band_count, static_cast<int>(bands.size()));
  EXPECT_EQ(gdal_type(info.type), band1.at("type").as_string());
  if (band1.contains("noDataValue")) {
    ASSERT_TRUE(info.nodata);
    EXPECT_EQ(*info.nodata, number(band1.at("noDataValue")));
  } else {
    EXPECT_FALSE(info.nodata);
  }
  EXPECT_EQ(info.crs.epsg, expect.at("epsg").to_number<int>());
  if (gi.contains("stac") && gi.at("stac").as_object().contains("proj:epsg")) {
    EXPECT_EQ(info.crs.epsg, gi.at("stac").at("proj:epsg").to_number<int>());
  }
  if (expect.contains("proj_contains")) {
    EXPECT_NE(info.crs.definition.find(expect.at("proj_contains").as_string().c_str()), std::string::npos)
        << info.crs.definition;
  }
  const auto& gt = gi.at("geoTransform").as_array();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(info.transform[i], number(gt[i])) << "geotransform[" << i << "]";

  // Levels: full resolution, then GDAL's overviews in its order.
  std::vector<std::pair<int, int>> sizes{{info.width, info.height}};
  if (band1.contains("overviews")) {
    for (const auto& ov : band1.at("overviews").as_array()) {
      sizes.emplace_back(ov.at("size").as_array()[0].to_number<int>(), ov.at("size").as_array()[1].to_number<int>());
    }
  }
  ASSERT_EQ(info.levels.size(), sizes.size());
  for (size_t l = 0; l < sizes.size(); ++l) {
    EXPECT_EQ(info.levels[l].width, sizes[l].first) << "level " << l;
    EXPECT_EQ(info.levels[l].height, sizes[l].second) << "level " << l;
  }
  EXPECT_EQ(info.levels[0].block_width, band1.at("block").as_array()[0].to_number<int>());
  EXPECT_EQ(info.levels[0].block_height, band1.at("block").as_array()[1].to_number<int>());

  for (size_t b = 0; b < bands.size(); ++b) {
    const auto& band = bands[b].as_object();
    EXPECT_EQ(info.scales[b], band.contains("scale") ? number(band.at("scale")) : 1.0);
    EXPECT_EQ(info.offsets[b], band.contains("offset") ? number(band.at("offset")) : 0.0);
    EXPECT_EQ(info.band_descriptions[b], band.contains("description") ? band.at("description").as_string() : "");
  }
  bool per_dataset_mask = false, alpha = false;
  if (band1.contains("mask")) {
    for (const auto& f : band1.at("mask").at("flags").as_array()) {
      per_dataset_mask |= f.as_string() == "PER_DATASET";
      alpha |= f.as_string() == "ALPHA";
    }
  }
  EXPECT_EQ(info.has_mask, per_dataset_mask && !alpha);
  EXPECT_EQ(info.alpha_band, expect.contains("alpha_band") ? expect.at("alpha_band").to_number<int>() : 0);
  EXPECT_EQ(info.compression, expect.at("compression").as_string());
}

TEST_P(AgainstGdal, EveryLevelDecodesToGdalsValuesAndMask) {
  const std::string name = GetParam();
  auto o = open_fixture(name);
  ASSERT_TRUE(o.reader);
  const RasterInfo& info = o.reader->info();
  std::vector<int> all;
  for (int b = 1; b <= info.band_count; ++b) all.push_back(b);
  for (size_t l = 0; l < info.levels.size(); ++l) {
    const Level& level = info.levels[l];
    auto img = o.reader->read(static_cast<int>(l), {0, 0, level.width, level.height}, all);
    ASSERT_TRUE(img) << img.error().internal;
    auto gdal_mask = testing::read_array<uint8_t>(raster_fixtures() / (name + ".L" + std::to_string(l) + ".mask.u8"));
    ASSERT_EQ(gdal_mask.size(), img->valid.size());
    for (int b = 0; b < info.band_count; ++b) {
      auto gdal = testing::read_array<double>(
          raster_fixtures() / (name + ".L" + std::to_string(l) + ".b" + std::to_string(b + 1) + ".f64"));
      ASSERT_EQ(gdal.size(), img->bands[b].size()) << "level " << l;
      size_t differing = 0;
      for (size_t i = 0; i < gdal.size(); ++i) differing += !same(gdal[i], img->bands[b][i]);
      EXPECT_EQ(differing, 0u) << name << " level " << l << " band " << b + 1;
    }
    // Validity: GDAL's mask where GDAL has one (internal mask, alpha, nodata); NaN
    // (which GDAL does not mask without a nodata value) is invalid here.
    size_t differing = 0;
    for (size_t i = 0; i < gdal_mask.size(); ++i) {
      bool expected = gdal_mask[i] != 0 && !std::isnan(img->bands[0][i]);
      differing += (img->valid[i] != 0) != expected;
    }
    EXPECT_EQ(differing, 0u) << name << " level " << l << " valid";
  }
}

TEST_P(AgainstGdal, WindowsAcrossBlocksAndEdgesPlaceEveryPixel) {
  const std::string name = GetParam();
  auto o = open_fixture(name);
  ASSERT_TRUE(o.reader);
  const RasterInfo& info = o.reader->info();
  const int w = info.width, h = info.height;
  auto gdal =
      testing::read_array<double>(raster_fixtures() / (name + ".L0.b" + std::to_string(info.band_count) + ".f64"));
  // Overhanging the top-left corner, the bottom-right corner, and inside.
  for (Window win :
       {Window{-5, -3, w / 2 + 7, h / 3 + 5}, Window{w / 3, h / 4, w, h}, Window{w / 5, h / 6, w / 2, h / 2}}) {
    auto img = o.reader->read(0, win, {info.band_count, 1});
    ASSERT_TRUE(img) << img.error().internal;
    ASSERT_EQ(img->bands.size(), 2u);
    size_t wrong = 0;
    for (int y = 0; y < win.height; ++y) {
      for (int x = 0; x < win.width; ++x) {
        int sx = win.x + x, sy = win.y + y;
        size_t o2 = static_cast<size_t>(y) * win.width + x;
        if (sx < 0 || sy < 0 || sx >= w || sy >= h) {
          wrong += img->valid[o2] != 0 || img->bands[0][o2] != info.nodata.value_or(0);
        } else {
          wrong += !same(img->bands[0][o2], gdal[static_cast<size_t>(sy) * w + sx]);
        }
      }
    }
    EXPECT_EQ(wrong, 0u) << name << " window " << win.x << "," << win.y << " " << win.width << "x" << win.height;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AgainstGdal, ::testing::ValuesIn(testing::raster_fixture_names()),
                         [](const auto& info) { return info.param; });

TEST(CogReader, FixtureListMatchesTheGenerator) {
  auto index = json::parse(testing::read_file(raster_fixtures() / "index.json"));
  std::vector<std::string> generated;
  for (const auto& n : index.as_array()) generated.emplace_back(n.as_string());
  EXPECT_EQ(generated, testing::raster_fixture_names());
}

TEST(CogReader, PixelIsPointMovesTheOriginByHalfAPixelAsGdalDoes) {
  auto o = open_fixture("pixel_is_point");
  ASSERT_TRUE(o.reader);
  // Written with origin (400000, 5000000) and AREA_OR_POINT=Point: GDAL stores the
  // tiepoint at the pixel centre and reads the same origin back.
  EXPECT_EQ(o.reader->info().transform[0], 400000.0);
  EXPECT_EQ(o.reader->info().transform[3], 5000000.0);
}

TEST(CogReader, RefusesBadArguments) {
  auto o = open_fixture("rgb_deflate");
  ASSERT_TRUE(o.reader);
  EXPECT_EQ(o.reader->read(7, {0, 0, 10, 10}, {1}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(o.reader->read(-1, {0, 0, 10, 10}, {1}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(o.reader->read(0, {0, 0, 10, 10}, {4}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(o.reader->read(0, {0, 0, 10, 10}, {0}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(o.reader->read(0, {0, 0, 10, 10}, {}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(o.reader->read(0, {0, 0, 0, 10}, {1}).error().code, ErrorCode::kBadRequest);
  auto huge = o.reader->read(0, {0, 0, 1 << 15, 1 << 15}, {1});
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code, ErrorCode::kBadRequest);
  // Entirely outside: all invalid, no GET needed.
  auto outside = o.reader->read(0, {10000, 10000, 4, 4}, {1});
  ASSERT_TRUE(outside);
  EXPECT_EQ(std::count(outside->valid.begin(), outside->valid.end(), 0), 16);
}

TEST(CogReader, SparseBlocksReadAsNodata) {
  auto o = open_fixture("sparse");
  ASSERT_TRUE(o.reader);
  auto img = o.reader->read(0, {0, 0, 256, 256}, {1});
  ASSERT_TRUE(img);
  EXPECT_EQ(img->at(0, 10, 10), 9.0);
  EXPECT_FALSE(img->is_valid(10, 10));
  EXPECT_TRUE(img->is_valid(10, 200));
}

}  // namespace
}  // namespace scigate::raster
