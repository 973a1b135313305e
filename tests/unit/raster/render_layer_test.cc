// The read side of the endpoints: bidx or expression, unscale before the expression (as
// rio-tiler), names and descriptions, and the same for /point.
#include <gtest/gtest.h>

#include "fakes/memory_raster.h"
#include "raster/layer.h"

namespace scigate::raster {
namespace {

using testing::MemoryRaster;

MemoryRaster two_bands() {
  RasterInfo info;
  info.crs = Crs{4326, "EPSG:4326"};
  info.transform = {0, 1, 0, 10, 0, -1};
  info.type = DataType::kUInt16;
  info.band_descriptions = {"red", "nir"};
  info.scales = {0.5, 0.5};
  info.offsets = {0, 100};
  // red = 10, nir = 30 everywhere but a masked corner.
  MemoryRaster::LevelData level{
      10, 10, {std::vector<double>(100, 10), std::vector<double>(100, 30)}, std::vector<uint8_t>(100, 255)};
  level.mask[0] = 0;
  return MemoryRaster(info, {level});
}

const TargetGrid kGrid{Crs{4326, "EPSG:4326"}, {0, 0, 10, 10}, 10, 10};

TEST(Layer, BidxKeepsNamesAndDescriptions) {
  auto raster = two_bands();
  LayerOptions options;
  options.bidx = {2};
  auto layer = read_layer(raster, kGrid, options);
  ASSERT_TRUE(layer.ok());
  EXPECT_EQ(layer->band_names, (std::vector<std::string>{"b2"}));
  EXPECT_EQ(layer->band_descriptions, (std::vector<std::string>{"nir"}));
  EXPECT_EQ(layer->image.at(0, 5, 5), 30);
  EXPECT_EQ(layer->image.type, DataType::kUInt16);
}

TEST(Layer, UnscaleComesBeforeTheExpression) {
  auto raster = two_bands();
  LayerOptions options;
  options.expression = "(b2-b1)/(b2+b1)";
  options.bidx = {1};  // ignored, as rio-tiler
  options.unscale = true;
  auto layer = read_layer(raster, kGrid, options);
  ASSERT_TRUE(layer.ok());
  // red 10 * 0.5 = 5, nir 30 * 0.5 + 100 = 115: (115 - 5) / 120.
  EXPECT_NEAR(layer->image.at(0, 5, 5), 110.0 / 120.0, 1e-6);
  EXPECT_EQ(layer->image.type, DataType::kFloat32);
  EXPECT_EQ(layer->band_names, (std::vector<std::string>{"b1"}));
  EXPECT_EQ(layer->band_descriptions, (std::vector<std::string>{"(nir-red)/(nir+red)"}));
  EXPECT_FALSE(layer->image.is_valid(0, 0));
  options.expression = "b3 + 1";
  EXPECT_EQ(read_layer(raster, kGrid, options).error().code, ErrorCode::kBadRequest);
  options.expression = "b1 +";
  EXPECT_EQ(read_layer(raster, kGrid, options).error().code, ErrorCode::kBadRequest);
}

TEST(Layer, PointWithExpression) {
  auto raster = two_bands();
  LayerOptions options;
  options.expression = "b2-b1;b1*2";
  auto p = read_point(raster, 5.5, 5.5, Crs{4326, "EPSG:4326"}, options);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->values.size(), 2u);
  EXPECT_EQ(*p->values[0], 20);
  EXPECT_EQ(*p->values[1], 20);
  EXPECT_EQ(p->band_names, (std::vector<std::string>{"b1", "b2"}));
  auto masked = read_point(raster, 0.5, 9.5, Crs{4326, "EPSG:4326"}, options);
  ASSERT_TRUE(masked.ok());
  EXPECT_FALSE(masked->values[0].has_value());
  EXPECT_EQ(read_point(raster, 50, 50, Crs{4326, "EPSG:4326"}, {}).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace scigate::raster
