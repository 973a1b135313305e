// The /info, /info.geojson, tilejson and /point documents in rio-tiler's and TiTiler's shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "raster/documents.h"

namespace scigate::raster {
namespace {

RasterInfo utm_info() {
  RasterInfo info;
  info.width = 4096, info.height = 2048, info.band_count = 2;
  info.type = DataType::kUInt16;
  info.crs = Crs{32633, "EPSG:32633"};
  info.transform = {400000, 30, 0, 5000000, 0, -30};
  info.nodata = 0;
  info.levels = {{4096, 2048, 512, 512}, {2048, 1024, 512, 512}, {1024, 512, 512, 512}};
  info.band_descriptions = {"red", ""};
  info.scales = {1, 0.01};
  info.offsets = {0, -5};
  info.photometric = "minisblack";
  return info;
}

TEST(Documents, Info) {
  const auto info = info_json(utm_info());
  const auto& bounds = info.at("bounds").as_array();
  EXPECT_DOUBLE_EQ(bounds[0].to_number<double>(), 400000);
  EXPECT_DOUBLE_EQ(bounds[1].to_number<double>(), 5000000 - 2048 * 30);
  EXPECT_EQ(info.at("crs").as_string(), "http://www.opengis.net/def/crs/EPSG/0/32633");
  EXPECT_EQ(info.at("dtype").as_string(), "uint16");
  EXPECT_EQ(info.at("nodata_type").as_string(), "Nodata");
  EXPECT_EQ(info.at("nodata_value").to_number<double>(), 0);
  EXPECT_EQ(info.at("band_descriptions").as_array()[0].as_array()[1].as_string(), "red");
  EXPECT_EQ(info.at("band_descriptions").as_array()[1].as_array()[1].as_string(), "b2");
  EXPECT_EQ(info.at("band_metadata").as_array()[1].as_array()[0].as_string(), "b2");
  EXPECT_EQ(info.at("colorinterp").as_array()[0].as_string(), "gray");
  EXPECT_EQ(info.at("overviews"), (boost::json::array{2, 4}));
  EXPECT_DOUBLE_EQ(info.at("scales").as_array()[1].to_number<double>(), 0.01);
  EXPECT_EQ(info.at("count").as_int64(), 2);
  RasterInfo masked = utm_info();
  masked.nodata.reset();
  masked.has_mask = true;
  EXPECT_EQ(info_json(masked).at("nodata_type").as_string(), "Mask");
  EXPECT_EQ(info_json(masked, std::nan("")).at("nodata_value").as_string(), "nan");
  masked.has_mask = false;
  EXPECT_EQ(info_json(masked).at("nodata_type").as_string(), "None");
}

TEST(Documents, GeojsonSplitsAtTheAntimeridian) {
  RasterInfo info = utm_info();
  const auto feature = info_geojson(info);
  EXPECT_EQ(feature.at("geometry").at("type").as_string(), "Polygon");
  const auto& bbox = feature.at("bbox").as_array();
  EXPECT_NEAR(bbox[0].to_number<double>(), 13.7, 0.1);
  EXPECT_EQ(feature.at("properties").at("dtype").as_string(), "uint16");
  // A raster whose geographic bounds cross the antimeridian (west > east).
  RasterInfo crossing;
  crossing.width = 100, crossing.height = 100, crossing.band_count = 1;
  crossing.crs = Crs{3832, "EPSG:3832"};                         // PDC Mercator, centred on 150°E
  crossing.transform = {2500000, 10000, 0, 1000000, 0, -10000};  // ~172.5°E to ~178.6°W
  const auto split = info_geojson(crossing);
  const auto& b = split.at("bbox").as_array();
  EXPECT_NEAR(b[0].to_number<double>(), 172.5, 0.5);
  EXPECT_NEAR(b[2].to_number<double>(), -178.6, 0.5);
  EXPECT_EQ(split.at("geometry").at("type").as_string(), "MultiPolygon");
}

TEST(Documents, TileJson) {
  const auto doc = tilejson(utm_info(), *find_tile_matrix_set("WebMercatorQuad"),
                            "https://h/cog/tiles/WebMercatorQuad/{z}/{x}/{y}?url=x", std::nullopt, 14);
  EXPECT_EQ(doc.at("tilejson").as_string(), "3.0.0");
  EXPECT_EQ(doc.at("tiles").as_array()[0].as_string(), "https://h/cog/tiles/WebMercatorQuad/{z}/{x}/{y}?url=x");
  EXPECT_EQ(doc.at("maxzoom").as_int64(), 14);
  // 30 m in UTM at 45°N is 42.3 m in Web Mercator (4113 x 2079 px, as rasterio's
  // calculate_default_transform): maxzoom z12 (38 m). The 2079 px side halves four times to
  // fit 256 px: 677 m, closest to z8 (611 m).
  EXPECT_EQ(doc.at("minzoom").as_int64(), 8);
  const auto& center = doc.at("center").as_array();
  const auto& bounds = doc.at("bounds").as_array();
  EXPECT_DOUBLE_EQ(center[0].to_number<double>(), (bounds[0].to_number<double>() + bounds[2].to_number<double>()) / 2);
  EXPECT_EQ(center[2].as_int64(), 8);
  EXPECT_EQ(zoom_range(utm_info(), *find_tile_matrix_set("WebMercatorQuad")).maxzoom, 12);
}

TEST(Documents, Point) {
  PointValues values{{12.5, std::nullopt}, 3, 4};
  const auto doc = point_json(13.5, 45.1, values, band_names({1, 2}), band_descriptions(utm_info(), {1, 2}));
  EXPECT_EQ(doc.at("coordinates"), (boost::json::array{13.5, 45.1}));
  EXPECT_EQ(doc.at("values").as_array()[0].to_number<double>(), 12.5);
  EXPECT_TRUE(doc.at("values").as_array()[1].is_null());
  EXPECT_EQ(doc.at("band_names"), (boost::json::array{"b1", "b2"}));
  EXPECT_EQ(doc.at("band_descriptions"), (boost::json::array{"red", "b2"}));
}

}  // namespace
}  // namespace scigate::raster
