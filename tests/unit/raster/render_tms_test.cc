// Tile matrix sets against the OGC definitions (as morecantile publishes them) and the
// Web Mercator formulas; zoom rules as morecantile/rio-tiler apply them.
#include <gtest/gtest.h>

#include <cmath>

#include "fakes/memory_raster.h"
#include "raster/tms.h"

namespace scigate::raster {
namespace {

constexpr double kHalf = 20037508.342789244;
constexpr double kPi = 3.14159265358979323846;

const TileMatrixSet& wmq() { return *find_tile_matrix_set("WebMercatorQuad"); }
const TileMatrixSet& crs84() { return *find_tile_matrix_set("WorldCRS84Quad"); }

TEST(TileMatrixSets, WebMercatorQuadDefinition) {
  const TileMatrixSet& t = wmq();
  EXPECT_EQ(t.minzoom(), 0);
  EXPECT_EQ(t.maxzoom(), 24);
  EXPECT_EQ(t.crs_uri, "http://www.opengis.net/def/crs/EPSG/0/3857");
  const TileMatrix& z0 = *t.matrix(0);
  // The values of the OGC document (morecantile's data/WebMercatorQuad.json).
  EXPECT_DOUBLE_EQ(z0.cell_size, 156543.03392804097);
  EXPECT_NEAR(z0.scale_denominator, 559082264.0287178, 1e-6);
  EXPECT_DOUBLE_EQ(z0.origin_x, -kHalf);
  EXPECT_DOUBLE_EQ(z0.origin_y, kHalf);
  EXPECT_EQ(z0.tile_width, 256);
  const TileMatrix& z24 = *t.matrix(24);
  EXPECT_NEAR(z24.cell_size, 0.009330691929342804, 1e-15);
  EXPECT_NEAR(z24.scale_denominator, 33.323899747652874, 1e-9);
  EXPECT_EQ(z24.matrix_width, int64_t{1} << 24);
  EXPECT_EQ(t.matrix(25), nullptr);
}

TEST(TileMatrixSets, WorldCrs84QuadDefinition) {
  const TileMatrixSet& t = crs84();
  EXPECT_EQ(t.maxzoom(), 23);
  EXPECT_EQ(t.crs_uri, "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
  EXPECT_DOUBLE_EQ(t.matrix(0)->cell_size, 0.703125);
  EXPECT_NEAR(t.matrix(0)->scale_denominator / 279541132.014358, 1.0, 1e-14);
  EXPECT_NEAR(t.matrix(12)->scale_denominator / 68247.346683193, 1.0, 1e-12);
  EXPECT_EQ(t.matrix(0)->matrix_width, 2);
  EXPECT_EQ(t.matrix(0)->matrix_height, 1);
  EXPECT_EQ(t.matrix(5)->matrix_width, 64);
  const Bounds b = t.xy_bounds({1, 0, 0});
  EXPECT_DOUBLE_EQ(b.left, 0);
  EXPECT_DOUBLE_EQ(b.right, 180);
  EXPECT_DOUBLE_EQ(b.top, 90);
  EXPECT_DOUBLE_EQ(b.bottom, -90);
}

TEST(TileMatrixSets, TileBoundsAndLonLat) {
  const Bounds xy = wmq().xy_bounds({0, 0, 1});
  EXPECT_DOUBLE_EQ(xy.left, -kHalf);
  EXPECT_DOUBLE_EQ(xy.bottom, 0);
  EXPECT_DOUBLE_EQ(xy.right, 0);
  EXPECT_DOUBLE_EQ(xy.top, kHalf);
  auto geo = wmq().bounds({0, 0, 1});
  ASSERT_TRUE(geo.ok());
  EXPECT_NEAR(geo->left, -180, 1e-9);
  EXPECT_NEAR(geo->top, 85.0511287798066, 1e-9);
  EXPECT_NEAR(geo->bottom, 0, 1e-9);
  EXPECT_FALSE(wmq().bounds({2, 0, 1}).ok());  // x outside a 2x2 matrix
}

TEST(TileMatrixSets, TileAtMatchesTheSlippyMapFormula) {
  for (const auto& [lon, lat] : std::vector<std::pair<double, double>>{{-105, 40}, {13.4, 52.5}, {151.2, -33.9}}) {
    for (int z : {0, 5, 10, 17}) {
      const double n = std::ldexp(1.0, z);
      const double lat_r = lat * kPi / 180;
      const auto x = static_cast<int64_t>(std::floor((lon + 180) / 360 * n));
      const auto y =
          static_cast<int64_t>(std::floor((1 - std::log(std::tan(lat_r) + 1 / std::cos(lat_r)) / kPi) / 2 * n));
      auto tile = wmq().tile_at(lon, lat, z);
      ASSERT_TRUE(tile.ok());
      EXPECT_EQ(tile->x, x) << lon << "," << lat << " z" << z;
      EXPECT_EQ(tile->y, y) << lon << "," << lat << " z" << z;
    }
  }
  // Clamped to the matrix, as morecantile.
  auto pole = wmq().tile_at(0, 89.9, 3);
  ASSERT_TRUE(pole.ok());
  EXPECT_EQ(pole->y, 0);
  auto in_crs84 = crs84().tile_at(-179.9, -89.9, 1);
  ASSERT_TRUE(in_crs84.ok());
  EXPECT_EQ(in_crs84->x, 0);
  EXPECT_EQ(in_crs84->y, 1);
}

TEST(TileMatrixSets, ZoomForResolutionPicksTheClosest) {
  const double c5 = wmq().matrix(5)->cell_size;
  EXPECT_EQ(wmq().zoom_for_resolution(c5), 5);
  EXPECT_EQ(wmq().zoom_for_resolution(c5 * 1.2), 5);  // closer to 5 than to 4 (by ratio)
  EXPECT_EQ(wmq().zoom_for_resolution(c5 * 1.8), 4);
  EXPECT_EQ(wmq().zoom_for_resolution(1e9), 0);
  EXPECT_EQ(wmq().zoom_for_resolution(1e-9), 24);
}

TEST(TileMatrixSets, TileGridWithTilesizeAndBuffer) {
  auto grid = tile_grid(wmq(), {10, 20, 6}, 512, 1.0);
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->width, 514);
  EXPECT_EQ(grid->height, 514);
  const Bounds b = wmq().xy_bounds({10, 20, 6});
  const double res = b.width() / 512;
  EXPECT_DOUBLE_EQ(grid->bounds.left, b.left - res);
  EXPECT_DOUBLE_EQ(grid->bounds.top, b.top + res);
  auto half = tile_grid(wmq(), {10, 20, 6}, 0, 0.5);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->width, 257);
  EXPECT_EQ(tile_grid(wmq(), {10, 20, 6}, 256, 0.3).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(tile_grid(wmq(), {64, 0, 6}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(tile_grid(wmq(), {0, 0, 25}).error().code, ErrorCode::kNotFound);
}

TEST(TileMatrixSets, JsonDocuments) {
  const auto list = tile_matrix_set_list_json("http://h/tileMatrixSets/");
  const auto& sets = list.at("tileMatrixSets").as_array();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].at("id").as_string(), "WebMercatorQuad");
  const auto& link = sets[0].at("links").as_array()[0];
  EXPECT_EQ(link.at("href").as_string(), "http://h/tileMatrixSets/WebMercatorQuad");
  EXPECT_EQ(link.at("rel").as_string(), "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme");
  const auto doc = wmq().to_json();
  EXPECT_EQ(doc.at("id").as_string(), "WebMercatorQuad");
  EXPECT_EQ(doc.at("crs").as_string(), "http://www.opengis.net/def/crs/EPSG/0/3857");
  const auto& matrices = doc.at("tileMatrices").as_array();
  ASSERT_EQ(matrices.size(), 25u);
  EXPECT_EQ(matrices[3].at("id").as_string(), "3");
  EXPECT_EQ(matrices[3].at("matrixWidth").as_int64(), 8);
  EXPECT_EQ(matrices[3].at("cornerOfOrigin").as_string(), "topLeft");
  EXPECT_EQ(find_tile_matrix_set("NoSuchSet"), nullptr);
}

RasterInfo geographic(double left, double top, double res, int width, int height) {
  RasterInfo info;
  info.crs = Crs{4326, "EPSG:4326"};
  info.transform = {left, res, 0, top, 0, -res};
  info.width = width, info.height = height, info.band_count = 1;
  return info;
}

TEST(TileMatrixSets, ZoomRangeOfARaster) {
  // 0.001° pixels (~111 m, z10 is 153 m and z11 76 m: the closer by ratio is z10),
  // 4096 px wide: 4 halvings to fit 256 px, so minzoom is 4 zooms up.
  const RasterInfo info = geographic(5, 47, 0.001, 4096, 4096);
  const ZoomRange z = zoom_range(info, wmq());
  EXPECT_EQ(z.maxzoom, 10);
  EXPECT_EQ(z.minzoom, 6);
  const ZoomRange g = zoom_range(info, crs84());
  // 0.001° lies between z9 (0.00137°) and z10 (0.00069°); z9 is closer by ratio.
  EXPECT_EQ(g.maxzoom, 9);
}

TEST(TileMatrixSets, TileIntersectsAcrossTheAntimeridian) {
  const RasterInfo info = geographic(170, 5, 0.05, 400, 200);
  auto east = tile_intersects(wmq(), {31, 15, 5}, info);
  auto west = tile_intersects(wmq(), {0, 15, 5}, info);
  auto far = tile_intersects(wmq(), {16, 15, 5}, info);
  ASSERT_TRUE(east.ok() && west.ok() && far.ok());
  EXPECT_TRUE(*east);
  EXPECT_TRUE(*west);
  EXPECT_FALSE(*far);
}

}  // namespace
}  // namespace scigate::raster
