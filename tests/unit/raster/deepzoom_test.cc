// DZI level math and descriptor, IIIF parameter parsing (good and bad tables), info.json,
// and pixel-space resampling over in-memory rasters (no georeferencing at all).
#include "raster/deepzoom.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/memory_raster.h"

namespace scigate::raster {
namespace {

using testing::MemoryRaster;

// ---- DZI -------------------------------------------------------------------------------

TEST(DziLayout, LevelsAsOpenSeadragonAndVips) {
  // vips dzsave of a 1000x600 image: levels 0..10, level 10 = 1000x600, 9 = 500x300,
  // 8 = 250x150, 7 = 125x75, 6 = 63x38 (ceil), ..., 0 = 1x1.
  DziLayout l{1000, 600, 254, 1};
  EXPECT_EQ(l.max_level(), 10);
  EXPECT_EQ(l.level_width(10), 1000);
  EXPECT_EQ(l.level_height(10), 600);
  EXPECT_EQ(l.level_width(6), 63);
  EXPECT_EQ(l.level_height(6), 38);
  EXPECT_EQ(l.level_width(0), 1);
  EXPECT_EQ(l.level_height(0), 1);
  EXPECT_EQ(l.columns(10), 4);  // 254 * 3 = 762 < 1000
  EXPECT_EQ(l.rows(10), 3);
  EXPECT_EQ(l.columns(8), 1);
  // Powers of two: 1024 has max level 10, 1025 has 11; a 1x1 image has one level.
  EXPECT_EQ((DziLayout{1024, 1, 254, 1}).max_level(), 10);
  EXPECT_EQ((DziLayout{1025, 1, 254, 1}).max_level(), 11);
  EXPECT_EQ((DziLayout{1, 1, 254, 1}).max_level(), 0);
}

TEST(DziTile, OverlapOnInnerSidesOnly) {
  DziLayout l{1000, 600, 254, 1};
  auto first = dzi_tile(l, 10, 0, 0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->window.x, 0);
  EXPECT_EQ(first->window.width, 255);  // 254 + overlap on the right
  EXPECT_EQ(first->window.height, 255);
  auto inner = dzi_tile(l, 10, 1, 1);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->window.x, 253);
  EXPECT_EQ(inner->window.width, 256);
  auto last = dzi_tile(l, 10, 3, 2);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->window.x, 761);
  EXPECT_EQ(last->window.width, 1000 - 761);
  EXPECT_EQ(last->window.y, 507);
  EXPECT_EQ(last->window.height, 600 - 507);
  // Level 9 is half size: its pixels cover 2x2 level-0 pixels.
  auto half = dzi_tile(l, 9, 1, 0);
  ASSERT_TRUE(half);
  EXPECT_DOUBLE_EQ(half->region.x, 253 * 2);
  EXPECT_DOUBLE_EQ(half->region.width, (500 - 253) * 2);
  // Level 6 is 63x38 pixels of 16x16: the last column and row reach past the image.
  auto edge = dzi_tile(l, 6, 0, 0);
  ASSERT_TRUE(edge);
  EXPECT_EQ(edge->window.width, 63);
  EXPECT_DOUBLE_EQ(edge->region.width, 63 * 16);
  EXPECT_DOUBLE_EQ(edge->region.height, 38 * 16);
}

TEST(DziTile, OutOfRangeIsNotFound) {
  DziLayout l{1000, 600, 254, 1};
  for (auto [level, col, row] :
       std::vector<std::array<int, 3>>{{11, 0, 0}, {-1, 0, 0}, {10, 4, 0}, {10, 0, 3}, {0, 1, 0}, {10, -1, 0}}) {
    auto t = dzi_tile(l, level, col, row);
    ASSERT_FALSE(t) << level << "/" << col << "_" << row;
    EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
  }
}

TEST(DziDescriptor, DeepZoomXml) {
  std::string xml = dzi_descriptor(DziLayout{1000, 600, 254, 1}, "jpeg");
  EXPECT_THAT(xml, ::testing::HasSubstr("xmlns=\"http://schemas.microsoft.com/deepzoom/2008\""));
  EXPECT_THAT(xml, ::testing::HasSubstr("Format=\"jpeg\""));
  EXPECT_THAT(xml, ::testing::HasSubstr("Overlap=\"1\""));
  EXPECT_THAT(xml, ::testing::HasSubstr("TileSize=\"254\""));
  EXPECT_THAT(xml, ::testing::HasSubstr("<Size Width=\"1000\" Height=\"600\"/>"));
}

// ---- IIIF ------------------------------------------------------------------------------

struct RegionCase {
  std::string text;
  int x, y, w, h;
};

TEST(IiifRegion, Good) {
  for (const auto& c : std::vector<RegionCase>{
           {"full", 0, 0, 1000, 600},
           {"square", 200, 0, 600, 600},
           {"0,0,100,50", 0, 0, 100, 50},
           {"900,500,200,200", 900, 500, 100, 100},  // clipped to the image
           {"pct:10,10,50,50", 100, 60, 500, 300},
           {"pct:0,0,100,100", 0, 0, 1000, 600},
           {"pct:12.5,0,12.5,100", 125, 0, 125, 600},
       }) {
    auto r = parse_iiif_region(c.text, 1000, 600);
    ASSERT_TRUE(r) << c.text << ": " << r.error().client;
    EXPECT_EQ(r->x, c.x) << c.text;
    EXPECT_EQ(r->y, c.y) << c.text;
    EXPECT_EQ(r->width, c.w) << c.text;
    EXPECT_EQ(r->height, c.h) << c.text;
  }
}

TEST(IiifRegion, Bad) {
  for (const char* text : {"", "Full", "0,0,100", "0,0,100,50,1", "0,0,0,50", "0,0,100,0", "-1,0,10,10", "a,b,c,d",
                           "1000,0,10,10", "0,600,10,10", "pct:", "pct:0,0,0,10", "pct:-1,0,10,10", "0.5,0,10,10",
                           "pct:1e2,0,10,10", " 0,0,10,10", "0,0,10,10 "}) {
    auto r = parse_iiif_region(text, 1000, 600);
    ASSERT_FALSE(r) << "'" << text << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << text;
  }
}

struct SizeCase {
  std::string text;
  int w, h;
};

TEST(IiifSize, Good) {
  const Window region{0, 0, 1000, 600};
  const IiifLimits limits{1'000'000};
  for (const auto& c : std::vector<SizeCase>{
           {"max", 1000, 600},
           {"500,", 500, 300},
           {",300", 500, 300},
           {"pct:50", 500, 300},
           {"pct:12.5", 125, 75},
           {"200,200", 200, 200},  // distorting is allowed
           {"!200,200", 200, 120},
           {"!2000,2000", 1000, 600},  // best fit, never larger than the region
           {"1000,600", 1000, 600},
           {"1,", 1, 1},
       }) {
    auto r = parse_iiif_size(c.text, region, limits);
    ASSERT_TRUE(r) << c.text << ": " << r.error().client;
    EXPECT_EQ(r->first, c.w) << c.text;
    EXPECT_EQ(r->second, c.h) << c.text;
  }
  // max is shrunk to maxArea, aspect kept.
  auto m = parse_iiif_size("max", region, IiifLimits{60'000});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->first, 316);
  EXPECT_EQ(m->second, 189);
}

TEST(IiifSize, Bad) {
  const Window region{0, 0, 1000, 600};
  for (const char* text : {"", "full", "^max", "^500,", "1001,", ",601", "1001,600", "pct:101", "pct:0", "pct:", "0,",
                           ",0", ",", "!200,", "!,200", "a,", "500,300,1", "-5,", "!0,10"}) {
    auto r = parse_iiif_size(text, region, IiifLimits{1'000'000});
    ASSERT_FALSE(r) << "'" << text << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << text;
  }
  // Beyond maxArea.
  EXPECT_FALSE(parse_iiif_size("1000,600", region, IiifLimits{1000}));
}

TEST(IiifRotationQualityFormat, Tables) {
  EXPECT_TRUE(parse_iiif_rotation("0"));
  EXPECT_TRUE(parse_iiif_rotation("360"));
  for (const char* text : {"90", "22.5", "!0", "!180"}) {
    auto s = parse_iiif_rotation(text);
    ASSERT_FALSE(s) << text;
    EXPECT_EQ(s.error().code, ErrorCode::kNotImplemented) << text;
  }
  for (const char* text : {"", "-90", "361", "abc", "0deg"}) {
    auto s = parse_iiif_rotation(text);
    ASSERT_FALSE(s) << text;
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest) << text;
  }
  auto qf = parse_iiif_quality_format("gray.png");
  ASSERT_TRUE(qf);
  EXPECT_EQ(qf->first, IiifQuality::kGray);
  EXPECT_EQ(qf->second, ImageFormat::kPng);
  EXPECT_TRUE(parse_iiif_quality_format("default.jpg"));
  EXPECT_TRUE(parse_iiif_quality_format("color.jpg"));
  for (const char* text : {"bitonal.jpg", "default.webp", "default.tif"}) {
    auto r = parse_iiif_quality_format(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kNotImplemented) << text;
  }
  for (const char* text : {"default", "best.jpg", "default.jpeg", "default.", ".jpg", "default.xyz"}) {
    auto r = parse_iiif_quality_format(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << text;
  }
}

TEST(IiifInfo, Level1Document) {
  auto info = iiif_info("https://example.org/iiif/abc", 1000, 600, 256, IiifLimits{4'000'000});
  EXPECT_EQ(info.at("@context").as_string(), "http://iiif.io/api/image/3/context.json");
  EXPECT_EQ(info.at("id").as_string(), "https://example.org/iiif/abc");
  EXPECT_EQ(info.at("type").as_string(), "ImageService3");
  EXPECT_EQ(info.at("protocol").as_string(), "http://iiif.io/api/image");
  EXPECT_EQ(info.at("profile").as_string(), "level1");
  EXPECT_EQ(info.at("width").as_int64(), 1000);
  EXPECT_EQ(info.at("height").as_int64(), 600);
  const auto& tiles = info.at("tiles").as_array();
  ASSERT_EQ(tiles.size(), 1u);
  EXPECT_EQ(tiles[0].at("width").as_int64(), 256);
  // 1000 -> 500 -> 250 (fits in a tile): factors 1, 2, 4.
  EXPECT_EQ(boost::json::serialize(tiles[0].at("scaleFactors")), "[1,2,4]");
  EXPECT_EQ(boost::json::serialize(info.at("sizes")),
            R"([{"width":250,"height":150},{"width":500,"height":300},{"width":1000,"height":600}])");
  // Sizes larger than maxArea are not offered.
  auto small = iiif_info("x", 1000, 600, 256, IiifLimits{200'000});
  EXPECT_EQ(small.at("sizes").as_array().size(), 2u);
}

// ---- Pixels --------------------------------------------------------------------------

RasterInfo plain_info() {
  RasterInfo info;  // no CRS, no transform: a plain picture
  info.type = DataType::kUInt8;
  return info;
}

TEST(ResamplePixels, CropAtFullResolutionIsExact) {
  auto raster = MemoryRaster::generated(plain_info(), 40, 30, 1, [](int, int c, int r) { return c + 2 * r; });
  ReadOptions options;
  options.resampling = Resampling::kAverage;
  auto image = resample_pixels(raster, PixelRegion{5, 7, 10, 6}, 10, 6, options);
  ASSERT_TRUE(image) << image.error().client;
  for (int r = 0; r < 6; ++r) {
    for (int c = 0; c < 10; ++c) EXPECT_EQ(image->at(0, c, r), (5 + c) + 2 * (7 + r)) << c << "," << r;
  }
}

TEST(ResamplePixels, HalvingAveragesTwoByTwo) {
  auto raster = MemoryRaster::generated(plain_info(), 8, 8, 1, [](int, int c, int r) { return 10 * c + r; });
  ReadOptions options;
  options.resampling = Resampling::kAverage;
  auto image = resample_pixels(raster, PixelRegion{0, 0, 8, 8}, 4, 4, options);
  ASSERT_TRUE(image);
  // mean of 10c+r over c in {2k, 2k+1}, r in {2j, 2j+1} = 10(2k+0.5) + 2j + 0.5, rounded half away.
  EXPECT_EQ(image->at(0, 1, 2), std::round(10 * 2.5 + 4.5));
}

TEST(ResamplePixels, ReadsTheCoarsestLevelStillFineEnough) {
  MemoryRaster::LevelData full{64, 64, {std::vector<double>(64 * 64, 1.0)}, {}};
  MemoryRaster::LevelData half{32, 32, {std::vector<double>(32 * 32, 2.0)}, {}};
  MemoryRaster::LevelData quarter{16, 16, {std::vector<double>(16 * 16, 3.0)}, {}};
  MemoryRaster raster(plain_info(), {full, half, quarter});
  ReadOptions options;
  options.resampling = Resampling::kAverage;
  auto at_half = resample_pixels(raster, PixelRegion{0, 0, 64, 64}, 32, 32, options);
  ASSERT_TRUE(at_half);
  EXPECT_EQ(at_half->at(0, 0, 0), 2.0);
  auto between = resample_pixels(raster, PixelRegion{0, 0, 64, 64}, 20, 20, options);  // needs 20: half (32)
  ASSERT_TRUE(between);
  EXPECT_EQ(between->at(0, 3, 3), 2.0);
  auto tiny = resample_pixels(raster, PixelRegion{0, 0, 64, 64}, 4, 4, options);
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->at(0, 0, 0), 3.0);
  auto full_res = resample_pixels(raster, PixelRegion{0, 0, 40, 64}, 40, 33, options);  // one axis needs level 0
  ASSERT_TRUE(full_res);
  EXPECT_EQ(full_res->at(0, 0, 0), 1.0);
}

// Deep zoom shares warp()'s bound on output values (a caller may ask for every band of a
// file that claims thousands): refused before allocating, fewer bands still work.
TEST(ResamplePixels, OutputsBeyondTheValueLimitAreRefused) {
  auto raster = MemoryRaster::generated(plain_info(), 4, 4, 1024, [](int b, int, int) { return b % 200; });
  ReadOptions options;
  options.resampling = Resampling::kAverage;
  auto all = resample_pixels(raster, PixelRegion{0, 0, 4, 4}, 256, 256, options);  // 256 x 256 x 1024 values
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, ErrorCode::kBadRequest);
  options.bands = {1, 1024};
  auto chosen = resample_pixels(raster, PixelRegion{0, 0, 4, 4}, 256, 256, options);
  ASSERT_TRUE(chosen.ok()) << chosen.error().internal;
  EXPECT_EQ(chosen->at(1, 10, 10), 1023 % 200);
}

TEST(RenderPixels, GrayAndFormats) {
  auto raster = MemoryRaster::generated(plain_info(), 16, 16, 3, [](int b, int, int) { return b == 0 ? 200 : 0; });
  auto jpeg = render_pixels(raster, PixelRegion{0, 0, 16, 16}, 8, 8, IiifQuality::kDefault, ImageFormat::kJpeg, 6);
  ASSERT_TRUE(jpeg) << jpeg.error().client;
  EXPECT_EQ(jpeg->media_type, "image/jpeg");
  EXPECT_EQ(jpeg->body.substr(0, 2), "\xFF\xD8");
  auto gray = render_pixels(raster, PixelRegion{0, 0, 16, 16}, 8, 8, IiifQuality::kGray, ImageFormat::kPng, 6);
  ASSERT_TRUE(gray) << gray.error().client;
  EXPECT_EQ(gray->media_type, "image/png");
  // PNG colour type (byte 25 of the IHDR): 0 = gray, no alpha since nothing is masked.
  EXPECT_EQ(static_cast<int>(gray->body[25]), 0);
}

TEST(RenderDziTile, EdgePixelsAverageWhatExists) {
  // 5x3 image: level 3 is 5x3, level 2 is 3x2 whose last column covers source column 4 only
  // (centre outside the image) and whose last row covers source row 2 only.
  auto raster = MemoryRaster::generated(plain_info(), 5, 3, 1, [](int, int c, int r) { return 10 * c + r; });
  DziLayout l{5, 3, 254, 1};
  ASSERT_EQ(l.max_level(), 3);
  auto tile = dzi_tile(l, 2, 0, 0);
  ASSERT_TRUE(tile);
  auto png = render_dzi_tile(raster, *tile, ImageFormat::kPng, 6);
  ASSERT_TRUE(png) << png.error().client;
  EXPECT_EQ(static_cast<int>(png->body[25]), 0);  // gray without alpha: every pixel valid
}

TEST(RenderPixels, PngAtTheGivenZlibLevel) {
  // Noise-like but compressible values: zlib level 1 and 9 give different streams.
  auto raster = MemoryRaster::generated(
      plain_info(), 128, 128, 3, [](int b, int c, int r) { return (c * 7 + r * 13 + b * 5) % 37 + (c / 8) * 4; });
  auto fast = render_pixels(raster, PixelRegion{0, 0, 128, 128}, 128, 128, IiifQuality::kDefault, ImageFormat::kPng, 1);
  auto small =
      render_pixels(raster, PixelRegion{0, 0, 128, 128}, 128, 128, IiifQuality::kDefault, ImageFormat::kPng, 9);
  ASSERT_TRUE(fast) << fast.error().client;
  ASSERT_TRUE(small) << small.error().client;
  EXPECT_LT(small->body.size(), fast->body.size());
  auto tile = dzi_tile(DziLayout{128, 128, 254, 1}, 7, 0, 0);
  ASSERT_TRUE(tile);
  auto tile_fast = render_dzi_tile(raster, *tile, ImageFormat::kPng, 1);
  auto tile_small = render_dzi_tile(raster, *tile, ImageFormat::kPng, 9);
  ASSERT_TRUE(tile_fast && tile_small);
  EXPECT_EQ(tile_small->body.size(), small->body.size());  // the same image as above
  EXPECT_EQ(tile_fast->body.size(), fast->body.size());
}

}  // namespace
}  // namespace scigate::raster
