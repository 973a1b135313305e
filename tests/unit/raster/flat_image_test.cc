// Flat images for deep zoom: decoding (PNG, JPEG, limits), the in-memory pyramid (vips's
// 2x2 means and edge copy), reading levels, and the cache (single flight, verdicts kept,
// byte budget).
#include "raster/flat_image.h"

#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>

#include <atomic>
#include <thread>

#include "fakes/memory_raster.h"
#include "raster/deepzoom.h"
#include "raster/encoders.h"
#include "raster/image_decode.h"

namespace scigate::raster {
namespace {

using testing::MemoryRaster;

DecodedImage gray(int w, int h, std::vector<uint8_t> samples) {
  return DecodedImage{w, h, 1, 1, false, std::move(samples)};
}

TEST(FlatImage, PyramidHalvesWithRoundedMeansAndEdgeCopy) {
  // 3 x 3: the last column and row are odd; vips pads by copying them.
  auto image = FlatImage::from_decoded(gray(3, 3, {0, 1, 10, 2, 4, 20, 100, 101, 255}));
  const RasterInfo& info = image->info();
  ASSERT_EQ(info.levels.size(), 3u);  // 3x3, 2x2, 1x1
  EXPECT_EQ(info.levels[1].width, 2);
  EXPECT_EQ(info.levels[1].factor, 2);
  EXPECT_EQ(info.levels[2].factor, 4);
  auto level1 = image->read(1, Window{0, 0, 2, 2}, {1});
  ASSERT_TRUE(level1.ok());
  // (0+1+2+4+2)/4 = 2; (10+10+20+20+2)/4 = 15; (100+101+100+101+2)/4 = 101; 255 alone.
  EXPECT_EQ(level1->bands[0], (std::vector<double>{2, 15, 101, 255}));
  auto level2 = image->read(2, Window{0, 0, 1, 1}, {1});
  EXPECT_EQ(level2->bands[0][0], (2 + 15 + 101 + 255 + 2) / 4);
}

TEST(FlatImage, ReadOutsideIsInvalidAndAlphaZeroIsInvalid) {
  // Gray + alpha, 2 x 1: the second pixel is transparent.
  auto image = FlatImage::from_decoded(DecodedImage{2, 1, 2, 1, true, {50, 255, 60, 0}});
  EXPECT_EQ(image->info().alpha_band, 2);
  EXPECT_EQ(display_bands(image->info()), std::vector<int>{1});
  auto r = image->read(0, Window{-1, 0, 4, 1}, {1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->valid, (std::vector<uint8_t>{0, 255, 0, 0}));
  EXPECT_EQ(r->bands[0][1], 50);
  EXPECT_FALSE(image->read(0, Window{0, 0, 1, 1}, {3}).ok());
  EXPECT_FALSE(image->read(9, Window{0, 0, 1, 1}, {1}).ok());
}

TEST(FlatImage, SixteenBitSamplesStaySixteenBit) {
  std::vector<uint8_t> bytes(4);
  const uint16_t values[2] = {1000, 65535};
  std::memcpy(bytes.data(), values, 4);
  auto image = FlatImage::from_decoded(DecodedImage{2, 1, 1, 2, false, bytes});
  EXPECT_EQ(image->info().type, DataType::kUInt16);
  auto level1 = image->read(1, Window{0, 0, 1, 1}, {1});
  EXPECT_EQ(level1->bands[0][0], (1000 + 65535 + 1000 + 65535 + 2) / 4);
}

TEST(FlatImage, FromSourceKeepsDisplayBandsAndMarksNodataAsAlpha) {
  RasterInfo info;
  info.type = DataType::kUInt8;
  info.nodata = 0;
  auto source = MemoryRaster::generated(info, 300, 5, 3, [](int b, int c, int r) { return c == 7 ? 0 : b + c + r; });
  auto flat = FlatImage::from_source(source, {1, 2, 3});
  ASSERT_TRUE(flat.ok()) << flat.error().internal;
  const RasterInfo& got = (*flat)->info();
  EXPECT_EQ(got.band_count, 4);
  EXPECT_EQ(got.alpha_band, 4);
  auto r = (*flat)->read(0, Window{6, 2, 2, 1}, {1, 2, 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->valid, (std::vector<uint8_t>{255, 0}));
  EXPECT_EQ(r->bands[2][0], 2 + 6 + 2);
}

TEST(FlatImage, FromSourceStretchesOtherTypesToEightBits) {
  RasterInfo info;
  info.type = DataType::kInt16;
  auto source = MemoryRaster::generated(info, 2, 1, 1, [](int, int c, int) { return c == 0 ? -32768 : 32767; });
  auto flat = FlatImage::from_source(source, {1});
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ((*flat)->info().type, DataType::kUInt8);
  auto r = (*flat)->read(0, Window{0, 0, 2, 1}, {1});
  EXPECT_EQ(r->bands[0], (std::vector<double>{0, 255}));
}

std::string png_of(int w, int h, int color_type, int depth, const std::vector<uint8_t>& rows) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep d, png_size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(d), n);
      },
      nullptr);
  png_set_IHDR(png, info, w, h, depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t row_bytes = rows.size() / h;
  for (int r = 0; r < h; ++r) png_write_row(png, const_cast<uint8_t*>(rows.data() + r * row_bytes));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

TEST(DecodeImage, PngLayouts) {
  auto rgba = decode_image(png_of(2, 1, PNG_COLOR_TYPE_RGBA, 8, {1, 2, 3, 4, 5, 6, 7, 8}), 100);
  ASSERT_TRUE(rgba.ok()) << rgba.error().internal;
  EXPECT_EQ(rgba->bands, 4);
  EXPECT_TRUE(rgba->alpha);
  EXPECT_EQ(rgba->samples, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  // 16-bit big-endian in the file, host order in memory.
  auto deep = decode_image(png_of(1, 1, PNG_COLOR_TYPE_GRAY, 16, {0x12, 0x34}), 100);
  ASSERT_TRUE(deep.ok());
  uint16_t v = 0;
  std::memcpy(&v, deep->samples.data(), 2);
  EXPECT_EQ(deep->sample_bytes, 2);
  EXPECT_EQ(v, 0x1234);
  // 1-bit gray expands to 0/255... as 8-bit samples 0 and 1 scaled by libpng.
  auto bits = decode_image(png_of(8, 1, PNG_COLOR_TYPE_GRAY, 1, {0xF0}), 100);
  ASSERT_TRUE(bits.ok());
  EXPECT_EQ(bits->samples.size(), 8u);
  EXPECT_EQ(bits->samples[0], 255);
  EXPECT_EQ(bits->samples[7], 0);
}

TEST(DecodeImage, JpegGrayAndRgb) {
  std::vector<uint8_t> pixels(16 * 8 * 3, 128);
  tjhandle tj = tjInitCompress();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(tj, pixels.data(), 16, 0, 8, TJPF_RGB, &buf, &size, TJSAMP_420, 90, 0), 0);
  std::string jpeg(reinterpret_cast<char*>(buf), size);
  tjFree(buf);
  tjDestroy(tj);
  auto rgb = decode_image(jpeg, 1000);
  ASSERT_TRUE(rgb.ok()) << rgb.error().internal;
  EXPECT_EQ(rgb->width, 16);
  EXPECT_EQ(rgb->bands, 3);
  EXPECT_NEAR(rgb->samples[0], 128, 1);
  // Beyond the pixel limit: 413 before decoding, naming the setting.
  auto big = decode_image(jpeg, 100);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(big.error().client.find("max_flat_pixels"), std::string::npos);
}

TEST(DecodeImage, BrokenFilesAreBadRequests) {
  auto png = png_of(4, 4, PNG_COLOR_TYPE_GRAY, 8, std::vector<uint8_t>(16, 7));
  for (const std::string& bad : {png.substr(0, png.size() / 2), png.substr(0, 20), std::string("\xff\xd8\xff", 3),
                                 std::string("GIF89a......"), std::string()}) {
    auto r = decode_image(bad, 1000);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << r.error().client;
  }
  EXPECT_EQ(sniff_image(png), ImageKind::kPng);
}

TEST(FlatImageCache, BuildsOnceForConcurrentCallersAndKeepsVerdicts) {
  FlatImageCache cache(1 << 20);
  std::atomic<int> builds{0};
  auto build = [&]() -> FlatImageCache::FlatResult {
    ++builds;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return FlatImage::from_decoded(gray(2, 2, {1, 2, 3, 4}));
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { EXPECT_TRUE(cache.get_or_build("a", build).ok()); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(builds.load(), 1);
  // A verdict on the file is kept; a store failure is not.
  auto refuse = [&]() -> FlatImageCache::FlatResult {
    ++builds;
    return Error::bad_request("corrupt PNG: x");
  };
  auto fail = [&]() -> FlatImageCache::FlatResult {
    ++builds;
    return Error{ErrorCode::kUpstreamFailed, "s3", "s3"};
  };
  EXPECT_FALSE(cache.get_or_build("b", refuse).ok());
  EXPECT_FALSE(cache.get_or_build("b", refuse).ok());
  EXPECT_FALSE(cache.get_or_build("c", fail).ok());
  EXPECT_FALSE(cache.get_or_build("c", fail).ok());
  EXPECT_EQ(builds.load(), 1 + 1 + 2);
}

TEST(FlatImageCache, EvictsLeastRecentlyUsedBeyondItsBudget) {
  FlatImageCache cache(3000);  // a 40 x 40 gray image and its pyramid: ~2100 bytes
  auto make = [] { return FlatImage::from_decoded(gray(40, 40, std::vector<uint8_t>(1600, 9))); };
  ASSERT_TRUE(cache.get_or_build("a", make).ok());
  ASSERT_TRUE(cache.get_or_build("b", make).ok());  // over budget: "a" goes
  EXPECT_EQ(cache.stats().entries, 1u);
  int builds = 0;
  ASSERT_TRUE(cache
                  .get_or_build("b",
                                [&] {
                                  ++builds;
                                  return make();
                                })
                  .ok());
  EXPECT_EQ(builds, 0);
  EXPECT_EQ(cache.stats().hits, 1u);
}

}  // namespace
}  // namespace scigate::raster
