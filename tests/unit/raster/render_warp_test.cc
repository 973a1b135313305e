// The warp on in-memory rasters: kernels on data whose right answer is known, level
// choice, nodata/NaN/mask handling, the antimeridian, bounded reads, and the size rules of
// /bbox, /preview and /point.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "fakes/memory_raster.h"
#include "raster/warp.h"

namespace scigate::raster {
namespace {

using testing::MemoryRaster;

RasterInfo geo_info(double left, double top, double res, DataType type = DataType::kFloat64) {
  RasterInfo info;
  info.crs = Crs{4326, "EPSG:4326"};
  info.transform = {left, res, 0, top, 0, -res};
  info.type = type;
  return info;
}

// The grid covering pixels [c0, c0 + w) x [r0, r0 + h) of a raster with `info`'s transform,
// at `scale` output pixels per source pixel.
TargetGrid pixel_grid(const RasterInfo& info, double c0, double r0, double w, double h, double scale) {
  const auto& t = info.transform;
  return TargetGrid{info.crs,
                    {t[0] + c0 * t[1], t[3] + (r0 + h) * t[5], t[0] + (c0 + w) * t[1], t[3] + r0 * t[5]},
                    static_cast<int>(w * scale),
                    static_cast<int>(h * scale)};
}

TEST(Warp, NearestOnTheSameGridIsACopy) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1), 100, 100, 2,
                                        [](int b, int c, int r) { return b * 10000 + r * 100 + c; });
  auto image = warp(raster, pixel_grid(raster.info(), 10, 20, 50, 40, 1), {});
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->width, 50);
  for (int r = 0; r < 40; ++r) {
    for (int c = 0; c < 50; ++c) {
      ASSERT_TRUE(image->is_valid(c, r));
      ASSERT_EQ(image->at(0, c, r), (r + 20) * 100 + (c + 10));
      ASSERT_EQ(image->at(1, c, r), 10000 + (r + 20) * 100 + (c + 10));
    }
  }
}

TEST(Warp, BandSelectionAndBadBands) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1), 10, 10, 3, [](int b, int, int) { return b + 1; });
  ReadOptions options;
  options.bands = {3, 1};
  auto image = warp(raster, pixel_grid(raster.info(), 0, 0, 10, 10, 1), options);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->bands.size(), 2u);
  EXPECT_EQ(image->at(0, 5, 5), 3);
  EXPECT_EQ(image->at(1, 5, 5), 1);
  options.bands = {4};
  EXPECT_EQ(warp(raster, pixel_grid(raster.info(), 0, 0, 10, 10, 1), options).error().code, ErrorCode::kBadRequest);
}

// A file may claim thousands of samples per pixel (a hostile header: 16-px tiles keep each
// block small): every band of a tile would be gigabytes of output, so the warp refuses
// before allocating it, and the same bands on a smaller grid still work.
TEST(Warp, OutputsBeyondTheValueLimitAreRefusedBeforeAllocating) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1), 4, 4, 1024, [](int b, int, int) { return b; });
  auto tile = warp(raster, pixel_grid(raster.info(), 0, 0, 4, 4, 64), {});  // 256 x 256 x 1024 values
  ASSERT_FALSE(tile.ok());
  EXPECT_EQ(tile.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(tile.error().client.find("bidx"), std::string::npos) << tile.error().client;
  auto small = warp(raster, pixel_grid(raster.info(), 0, 0, 4, 4, 16), {});  // 64 x 64 x 1024
  ASSERT_TRUE(small.ok()) << small.error().internal;
  EXPECT_EQ(small->at(1023, 10, 10), 1023);
}

// A file's pixel size may be absurdly small (a corrupt ModelPixelScale): a tile beside
// the raster then maps to source pixels near 1e150. That is outside, so nothing is read
// (the window was cast to int unclamped, UB that read the whole level; found by the cog
// fuzz target).
TEST(Warp, HugeSourceCoordinatesReadNothing) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 1e-150), 50, 40, 1, [](int, int, int) { return 1; });
  TargetGrid beside{raster.info().crs, {1, 9, 2, 10}, 64, 64};
  auto image = warp(raster, beside, {});
  ASSERT_TRUE(image.ok()) << image.error().internal;
  EXPECT_EQ(raster.reads(), 0);
  EXPECT_EQ(std::count(image->valid.begin(), image->valid.end(), 0), 64 * 64);
}

TEST(Warp, BilinearReproducesALinearRamp) {
  // f = 3 * col + 2 * row at pixel centres: bilinear interpolation is exact inside.
  auto raster =
      MemoryRaster::generated(geo_info(0, 10, 0.1), 100, 100, 1, [](int, int c, int r) { return 3.0 * c + 2.0 * r; });
  ReadOptions options;
  options.resampling = Resampling::kBilinear;
  auto image = warp(raster, pixel_grid(raster.info(), 20, 20, 10, 10, 4), options);  // 4x upsampling
  ASSERT_TRUE(image.ok());
  for (int r = 0; r < 40; ++r) {
    for (int c = 0; c < 40; ++c) {
      const double sx = 20 + (c + 0.5) / 4 - 0.5, sy = 20 + (r + 0.5) / 4 - 0.5;  // in pixel-centre units
      ASSERT_NEAR(image->at(0, c, r), 3 * sx + 2 * sy, 1e-9);
    }
  }
}

TEST(Warp, IntegerTypesAreRoundedAsGdal) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1, DataType::kUInt8), 4, 1, 1,
                                        [](int, int c, int) { return c <= 1 ? 10 : 13; });
  ReadOptions options;
  options.resampling = Resampling::kBilinear;
  // Output pixel centre a fifth of the way from source centre 1 to 2: 10.6 rounds to 11
  // (a truncation would give 10).
  auto image = warp(raster, pixel_grid(raster.info(), 1.2, 0, 1, 1, 1), options);
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->at(0, 0, 0), 11);
}

TEST(Warp, AverageOfBlocks) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1), 8, 8, 1, [](int, int c, int r) { return r * 8 + c; });
  ReadOptions options;
  options.resampling = Resampling::kAverage;
  auto image = warp(raster, pixel_grid(raster.info(), 0, 0, 8, 8, 0.5), options);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->width, 4);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      const double mean =
          ((2 * r) * 8 + 2 * c + (2 * r) * 8 + 2 * c + 1 + (2 * r + 1) * 8 + 2 * c + (2 * r + 1) * 8 + 2 * c + 1) / 4.0;
      EXPECT_NEAR(image->at(0, c, r), mean, 1e-9);
    }
  }
  options.resampling = Resampling::kMax;
  auto max = warp(raster, pixel_grid(raster.info(), 0, 0, 8, 8, 0.5), options);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->at(0, 1, 1), 3 * 8 + 3);
  options.resampling = Resampling::kMin;
  auto min = warp(raster, pixel_grid(raster.info(), 0, 0, 8, 8, 0.5), options);
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(min->at(0, 1, 1), 2 * 8 + 2);
}

TEST(Warp, InvalidPixelsStayOutOfInterpolation) {
  RasterInfo info = geo_info(0, 10, 0.1);
  info.nodata = -1;
  // A column of nodata between 100s and 200s.
  auto raster =
      MemoryRaster::generated(info, 10, 10, 1, [](int, int c, int) { return c == 5 ? -1 : (c < 5 ? 100 : 200); });
  ReadOptions options;
  options.resampling = Resampling::kBilinear;
  auto image = warp(raster, pixel_grid(raster.info(), 0, 0, 10, 10, 4), options);
  ASSERT_TRUE(image.ok());
  for (int r = 0; r < 40; ++r) {
    for (int c = 0; c < 40; ++c) {
      if (!image->is_valid(c, r)) {
        EXPECT_TRUE(c >= 20 && c < 24) << c;  // only over the nodata column
        continue;
      }
      // Next to the gap the kernel renormalises over the valid side: never a mix with -1.
      const double v = image->at(0, c, r);
      EXPECT_TRUE(std::abs(v - 100) < 1e-9 || std::abs(v - 200) < 1e-9) << c << " " << v;
    }
  }
}

TEST(Warp, NodataOverrideAndNaN) {
  RasterInfo info = geo_info(0, 10, 0.1, DataType::kFloat32);
  auto raster = MemoryRaster::generated(info, 4, 1, 1,
                                        [](int, int c, int) { return c == 0 ? std::nan("") : (c == 1 ? 7.0 : 3.0); });
  auto plain = warp(raster, pixel_grid(raster.info(), 0, 0, 4, 1, 1), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->is_valid(0, 0));  // NaN
  EXPECT_TRUE(plain->is_valid(1, 0));
  ReadOptions options;
  options.nodata = 7;
  auto overridden = warp(raster, pixel_grid(raster.info(), 0, 0, 4, 1, 1), options);
  ASSERT_TRUE(overridden.ok());
  EXPECT_FALSE(overridden->is_valid(0, 0));
  EXPECT_FALSE(overridden->is_valid(1, 0));
  EXPECT_TRUE(overridden->is_valid(2, 0));
}

TEST(Warp, NodataOverrideReplacesTheFilesNodata) {
  RasterInfo info = geo_info(0, 10, 0.1, DataType::kUInt8);
  info.nodata = 0;
  auto raster = MemoryRaster::generated(info, 3, 1, 1, [](int, int c, int) { return c; });  // 0, 1, 2
  ReadOptions options;
  options.nodata = 2;
  auto image = warp(raster, pixel_grid(raster.info(), 0, 0, 3, 1, 1), options);
  ASSERT_TRUE(image.ok());
  EXPECT_TRUE(image->is_valid(0, 0));  // 0 is data now
  EXPECT_TRUE(image->is_valid(1, 0));
  EXPECT_FALSE(image->is_valid(2, 0));
}

TEST(Warp, OutsideTheRasterIsInvalid) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.1), 10, 10, 1, [](int, int, int) { return 5; });
  auto image = warp(raster, pixel_grid(raster.info(), -5, -5, 20, 20, 1), {});
  ASSERT_TRUE(image.ok());
  EXPECT_FALSE(image->is_valid(0, 0));
  EXPECT_FALSE(image->is_valid(19, 19));
  EXPECT_TRUE(image->is_valid(5, 5));
  EXPECT_TRUE(image->is_valid(14, 14));
  EXPECT_FALSE(image->is_valid(15, 14));
  // Entirely outside: nothing is read.
  const int reads = raster.reads();
  auto away = warp(raster, pixel_grid(raster.info(), 100, 100, 10, 10, 1), {});
  ASSERT_TRUE(away.ok());
  EXPECT_EQ(raster.reads(), reads);
  EXPECT_TRUE(std::all_of(away->valid.begin(), away->valid.end(), [](uint8_t v) { return v == 0; }));
}

TEST(Warp, ChoosesTheOverviewByResolution) {
  RasterInfo info = geo_info(0, 10, 0.01);
  info.width = 1000;
  info.levels = {{1000, 1000, 256, 256}, {500, 500, 256, 256}, {250, 250, 256, 256}, {125, 125, 256, 256}};
  EXPECT_EQ(choose_level(info, 1.0, 0.5), 0);   // upsampling
  EXPECT_EQ(choose_level(info, 1.0, 1.05), 0);  // within 0.1 of level 0
  EXPECT_EQ(choose_level(info, 1.0, 1.5), 0);   // between 1 and 2: the finer
  EXPECT_EQ(choose_level(info, 1.0, 2.0), 1);
  EXPECT_EQ(choose_level(info, 1.0, 3.9), 1);
  EXPECT_EQ(choose_level(info, 1.0, 5.0), 2);
  EXPECT_EQ(choose_level(info, 1.0, 100.0), 3);
}

TEST(Warp, ChoosesTheOverviewOfTheSourceWindowAsGdalwarp) {
  // gdalwarp -te/-ts -ovr AUTO takes the x extent, in source pixels, of the window the
  // output covers. z10/532/363 over 0.0003-degree pixels at 46 N: that window is 4.58
  // pixels per output pixel (so factor 4, level 2), while the file's natural resolution
  // in EPSG:3857 (41.5 m against the tile's 152.9 m: 3.68) would say level 1. GDAL 3.6.2
  // read level 2 (gdalwarp -ovr AUTO gave -ovr 1's checksum on such a file).
  std::vector<MemoryRaster::LevelData> levels;
  for (int k = 0; k < 4; ++k) {
    const int n = 1600 >> k;
    levels.push_back({n, n, {std::vector<double>(static_cast<size_t>(n) * n, k)}, {}});
  }
  MemoryRaster raster(geo_info(7.0, 46.5, 0.0003), levels);
  const double half = 20037508.342789244, size = 2 * half / 1024;
  const TargetGrid tile{
      Crs{3857, "EPSG:3857"}, {-half + 532 * size, half - 364 * size, -half + 533 * size, half - 363 * size}, 256, 256};
  auto image = warp(raster, tile, {});
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(image->is_valid(128, 128));
  EXPECT_EQ(image->at(0, 128, 128), 2);
}

TEST(Warp, ReadsOverviewsAndBoundsItsReads) {
  // Level 1 holds a different constant: a heavily downsampled read must come from it.
  MemoryRaster::LevelData l0{2000, 2000, {std::vector<double>(2000 * 2000, 1.0)}, {}};
  MemoryRaster::LevelData l1{1000, 1000, {std::vector<double>(1000 * 1000, 2.0)}, {}};
  MemoryRaster raster(geo_info(0, 20, 0.01), {l0, l1});
  auto image = warp(raster, pixel_grid(raster.info(), 0, 0, 2000, 2000, 0.25), {});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->at(0, 100, 100), 2.0);
  // Without the overview, the same request reads level 0 in stripes, never all of it.
  MemoryRaster::LevelData big{4000, 2000, {std::vector<double>(4000 * 2000)}, {}};
  for (int r = 0; r < 2000; ++r) {
    for (int c = 0; c < 4000; ++c) big.bands[0][static_cast<size_t>(r) * 4000 + c] = r / 16;
  }
  MemoryRaster flat(geo_info(0, 20, 0.01), {big});
  auto small = warp(flat, pixel_grid(flat.info(), 0, 0, 4000, 2000, 1.0 / 16), {});
  ASSERT_TRUE(small.ok());
  EXPECT_LT(flat.largest_window(), int64_t{4000} * 2000);
  for (int r = 0; r < small->height; ++r) ASSERT_EQ(small->at(0, 7, r), r) << r;
}

TEST(Warp, AntimeridianTilesOnBothSides) {
  // 170°..190°: column c holds c.
  auto raster = MemoryRaster::generated(geo_info(170, 5, 0.05), 400, 200, 1, [](int, int c, int) { return c; });
  const Crs mercator{3857, "EPSG:3857"};
  const double half = 20037508.342789244;
  // 1° wide boxes around 175°E and 175°W (= 185°).
  const auto box = [&](double lon) {
    return TargetGrid{mercator, {lon / 180 * half, -50000, (lon + 1) / 180 * half, 50000}, 20, 2};
  };
  auto east = warp(raster, box(175), {});
  auto west = warp(raster, box(-175), {});
  ASSERT_TRUE(east.ok() && west.ok());
  ASSERT_TRUE(east->is_valid(0, 0) && west->is_valid(0, 0));
  EXPECT_EQ(east->at(0, 0, 0), 100);  // (175 - 170) / 0.05
  EXPECT_EQ(west->at(0, 0, 0), 300);  // (185 - 170) / 0.05
  EXPECT_EQ(west->at(0, 19, 0), 319);
}

TEST(Warp, ReprojectsUtmOntoMercator) {
  RasterInfo info;
  info.crs = Crs{32633, "EPSG:32633"};
  info.transform = {400000, 30, 0, 5000000, 0, -30};
  info.type = DataType::kFloat64;
  auto raster = MemoryRaster::generated(info, 500, 500, 1, [](int, int c, int r) { return r * 500 + c; });
  // The grid of the raster's own centre pixel, in EPSG:3857: the value must be that pixel's.
  auto b = transform_bounds({407490, 4992480, 407520, 4992510}, info.crs, Crs{3857, "EPSG:3857"});
  ASSERT_TRUE(b.ok());
  const double cx = (b->left + b->right) / 2, cy = (b->bottom + b->top) / 2;
  auto image = warp(raster, TargetGrid{Crs{3857, "EPSG:3857"}, {cx - 1, cy - 1, cx + 1, cy + 1}, 1, 1}, {});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->at(0, 0, 0), 250 * 500 + 250);
}

TEST(Warp, ThreadSafeOnOneSource) {
  auto raster = MemoryRaster::generated(geo_info(0, 10, 0.01), 500, 500, 1, [](int, int c, int r) { return c + r; });
  const TargetGrid grid{Crs{3857, "EPSG:3857"}, {100000, 500000, 300000, 700000}, 128, 128};
  auto expected = warp(raster, grid, {});
  ASSERT_TRUE(expected.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto image = warp(raster, grid, {});
        if (!image.ok() || image->bands != expected->bands) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
}

TEST(SizeRules, PreviewKeepsAspectWithinMaxSize) {
  RasterInfo info = geo_info(0, 10, 0.01);
  info.width = 2000, info.height = 1000;
  auto grid = preview_grid(info, {});
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->width, 1024);
  EXPECT_EQ(grid->height, 512);
  EXPECT_DOUBLE_EQ(grid->bounds.left, 0);
  EXPECT_DOUBLE_EQ(grid->bounds.right, 20);
  info.width = 500, info.height = 300;
  auto small = preview_grid(info, {});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, 500);  // never enlarged
  auto wide = preview_grid(info, {std::optional<int>(100), std::nullopt, std::nullopt});
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->height, 60);
  EXPECT_EQ(preview_grid(info, {std::optional<int>(0), std::nullopt, std::nullopt}).error().code,
            ErrorCode::kBadRequest);
}

TEST(SizeRules, BBoxAtNaturalResolutionOrGivenSize) {
  RasterInfo info = geo_info(0, 10, 0.01);
  info.width = 1000, info.height = 1000;
  BBoxRequest request;
  request.bbox = {1, 1, 3, 2};
  auto grid = bbox_grid(info, request);
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->width, 200);
  EXPECT_EQ(grid->height, 100);
  request.size.max_size = 50;
  auto capped = bbox_grid(info, request);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->width, 50);
  EXPECT_EQ(capped->height, 25);
  request.size = {std::optional<int>(64), std::optional<int>(64), std::nullopt};
  request.dst_crs = Crs{3857, "EPSG:3857"};
  auto mercator = bbox_grid(info, request);
  ASSERT_TRUE(mercator.ok());
  EXPECT_EQ(mercator->crs.epsg, 3857);
  EXPECT_NEAR(mercator->bounds.left, 111319.49, 0.01);
  request.bbox = {3, 1, 1, 2};
  EXPECT_EQ(bbox_grid(info, request).error().code, ErrorCode::kBadRequest);
}

TEST(Point, ValuesMaskedAndOutside) {
  RasterInfo info = geo_info(170, 5, 0.05, DataType::kInt16);
  info.nodata = -9999;
  auto raster = MemoryRaster::generated(info, 400, 200, 2,
                                        [](int b, int c, int r) { return r == 0 && c == 0 ? -9999 : b * 1000 + c; });
  auto v = point(raster, 175.01, 0.01, Crs{4326, "EPSG:4326"}, {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->col, 100);
  EXPECT_EQ(v->row, 99);
  ASSERT_EQ(v->values.size(), 2u);
  EXPECT_EQ(*v->values[0], 100);
  EXPECT_EQ(*v->values[1], 1100);
  auto wrapped = point(raster, -175.01, 0.01, Crs{4326, "EPSG:4326"}, {});  // = 184.99°E
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->col, 299);
  auto masked = point(raster, 170.01, 4.99, Crs{4326, "EPSG:4326"}, {});
  ASSERT_TRUE(masked.ok());
  EXPECT_FALSE(masked->values[0].has_value());
  EXPECT_EQ(point(raster, 0, 0, Crs{4326, "EPSG:4326"}, {}).error().code, ErrorCode::kNotFound);
}

TEST(ResamplingNames, RioTilerNames) {
  for (const char* name : {"nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "gauss", "average", "mode", "min",
                           "max", "med", "q1", "q3", "sum", "rms"}) {
    auto m = parse_resampling(name);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_STREQ(resampling_name(*m), name);
  }
  EXPECT_FALSE(parse_resampling("Bilinear").has_value());
  ReadOptions options;
  options.resampling = Resampling::kBilinear;
  EXPECT_EQ(effective_resampling(options, false), Resampling::kBilinear);
  EXPECT_EQ(effective_resampling(options, true), Resampling::kBilinear);
  options.reproject = Resampling::kCubic;
  EXPECT_EQ(effective_resampling(options, true), Resampling::kCubic);
}

}  // namespace
}  // namespace scigate::raster
