// Encoders and TiTiler's render rules: what is encoded is decoded again with libpng,
// libturbojpeg and libwebp, GeoTIFFs are read by gdalinfo/gdallocationinfo (gdal-bin) and
// NPY files by numpy (python3-numpy).
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

#include "raster/encoders.h"
#include "raster/render.h"
#include "temp_dir.h"

namespace scigate::raster {
namespace {

struct Decoded {
  int width = 0, height = 0, channels = 0, depth = 8;
  std::vector<uint16_t> pixels;  // interleaved
};

Decoded decode_png(const std::string& data) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&image, data.data(), data.size()));
  Decoded d;
  d.width = image.width, d.height = image.height;
  d.channels = PNG_IMAGE_SAMPLE_CHANNELS(image.format);
  d.depth = (image.format & PNG_FORMAT_FLAG_LINEAR) ? 16 : 8;
  std::vector<uint8_t> buffer(PNG_IMAGE_SIZE(image));
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, buffer.data(), 0, nullptr));
  if (d.depth == 16) {
    d.pixels.resize(buffer.size() / 2);
    std::memcpy(d.pixels.data(), buffer.data(), buffer.size());
  } else {
    d.pixels.assign(buffer.begin(), buffer.end());
  }
  return d;
}

Image image_of(int width, int height, DataType type, std::vector<std::vector<double>> bands) {
  Image image;
  image.width = width, image.height = height, image.type = type;
  image.bands = std::move(bands);
  image.valid.assign(static_cast<size_t>(width) * height, 255);
  return image;
}

std::string run(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << cmd;
  return out;
}

void write_file(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary).write(data.data(), data.size());
}

TEST(Encoders, PngRgbaAndGrayAlpha) {
  Planes p{2, 1, DataType::kUInt8, {{10, 20}, {30, 40}, {50, 60}, {255, 0}}, true};
  auto png = encode_png(p);
  ASSERT_TRUE(png.ok());
  const Decoded d = decode_png(*png);
  EXPECT_EQ(d.channels, 4);
  EXPECT_EQ(d.pixels, (std::vector<uint16_t>{10, 30, 50, 255, 20, 40, 60, 0}));
  auto gray = encode_png(Planes{2, 1, DataType::kUInt8, {{7, 8}, {255, 0}}, true});
  ASSERT_TRUE(gray.ok());
  EXPECT_EQ(decode_png(*gray).channels, 2);
  auto sixteen = encode_png(Planes{1, 1, DataType::kUInt16, {{60000}}, false});
  ASSERT_TRUE(sixteen.ok());
  const Decoded d16 = decode_png(*sixteen);
  EXPECT_EQ(d16.depth, 16);
  EXPECT_FALSE(encode_png(Planes{1, 1, DataType::kFloat32, {{1}}, false}).ok());
  EXPECT_FALSE(encode_png(Planes{1, 1, DataType::kUInt8, {{1}, {1}, {1}, {1}, {1}}, false}).ok());
}

TEST(Encoders, JpegDecodes) {
  std::vector<double> r(64 * 32, 200), g(64 * 32, 100), b(64 * 32, 50);
  auto jpeg = encode_jpeg(Planes{64, 32, DataType::kUInt8, {r, g, b}, false});
  ASSERT_TRUE(jpeg.ok());
  tjhandle h = tjInitDecompress();
  int w = 0, ht = 0, subsamp = 0, colorspace = 0;
  ASSERT_EQ(tjDecompressHeader3(h, reinterpret_cast<const unsigned char*>(jpeg->data()), jpeg->size(), &w, &ht,
                                &subsamp, &colorspace),
            0);
  EXPECT_EQ(w, 64);
  EXPECT_EQ(ht, 32);
  std::vector<uint8_t> pixels(64 * 32 * 3);
  ASSERT_EQ(tjDecompress2(h, reinterpret_cast<const unsigned char*>(jpeg->data()), jpeg->size(), pixels.data(), 64, 0,
                          32, TJPF_RGB, 0),
            0);
  tjDestroy(h);
  EXPECT_NEAR(pixels[0], 200, 3);
  EXPECT_NEAR(pixels[1], 100, 3);
  EXPECT_NEAR(pixels[2], 50, 3);
  EXPECT_FALSE(encode_jpeg(Planes{1, 1, DataType::kUInt8, {{1}, {2}}, false}).ok());
}

TEST(Encoders, WebpKeepsAlpha) {
  std::vector<double> c(16 * 16, 128), alpha(16 * 16, 255);
  alpha[0] = 0;
  auto webp = encode_webp(Planes{16, 16, DataType::kUInt8, {c, c, c, alpha}, true});
  ASSERT_TRUE(webp.ok());
  int w = 0, h = 0;
  uint8_t* rgba = WebPDecodeRGBA(reinterpret_cast<const uint8_t*>(webp->data()), webp->size(), &w, &h);
  ASSERT_NE(rgba, nullptr);
  EXPECT_EQ(w, 16);
  EXPECT_EQ(rgba[3], 0);
  EXPECT_EQ(rgba[7], 255);
  EXPECT_NEAR(rgba[4], 128, 4);
  WebPFree(rgba);
  EXPECT_FALSE(encode_webp(Planes{1, 1, DataType::kUInt8, {{1}}, false}).ok());
}

TEST(Encoders, GeoTiffIsReadByGdal) {
  scigate::testing::TempDir dir;
  Planes p{3, 2, DataType::kInt16, {{-5, 1, 2, 3, 4, 5}, {32767, 32767, -32768, 32767, 32767, 32767}}, true};
  const Bounds bounds{-1000, 2000, 2000, 4000};  // 1000 m pixels
  auto tif = encode_geotiff(p, Crs{3857, "EPSG:3857"}, bounds);
  ASSERT_TRUE(tif.ok());
  const auto path = dir.path() / "out.tif";
  write_file(path, *tif);
  const auto info = boost::json::parse(run("gdalinfo -json " + path.string()));
  EXPECT_EQ(info.at("size").as_array()[0].as_int64(), 3);
  const auto& gt = info.at("geoTransform").as_array();
  EXPECT_DOUBLE_EQ(gt[0].to_number<double>(), -1000);
  EXPECT_DOUBLE_EQ(gt[1].to_number<double>(), 1000);
  EXPECT_DOUBLE_EQ(gt[3].to_number<double>(), 4000);
  EXPECT_DOUBLE_EQ(gt[5].to_number<double>(), -1000);
  const std::string wkt(info.at("coordinateSystem").at("wkt").as_string());
  EXPECT_NE(wkt.find("ID[\"EPSG\",3857]"), std::string::npos);
  const auto& bands = info.at("bands").as_array();
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_EQ(bands[0].at("type").as_string(), "Int16");
  EXPECT_EQ(bands[1].at("colorInterpretation").as_string(), "Alpha");
  EXPECT_EQ(run("gdallocationinfo -valonly " + path.string() + " 0 0"), "-5\n32767\n");
  auto geographic = encode_geotiff(Planes{1, 1, DataType::kFloat32, {{1.5}}, false}, Crs{0, "OGC:CRS84"}, {0, 0, 1, 1});
  ASSERT_TRUE(geographic.ok());
  write_file(dir.path() / "g.tif", *geographic);
  const auto g = boost::json::parse(run("gdalinfo -json " + (dir.path() / "g.tif").string()));
  EXPECT_NE(std::string(g.at("coordinateSystem").at("wkt").as_string()).find("ID[\"EPSG\",4326]"), std::string::npos);
}

TEST(Encoders, NpyIsReadByNumpy) {
  scigate::testing::TempDir dir;
  auto npy = encode_npy(Planes{3, 2, DataType::kFloat32, {{1, 2, 3, 4, 5, 6.5}, {0, 1, 0, 1, 0, 1}}, true});
  ASSERT_TRUE(npy.ok());
  EXPECT_EQ((npy->find('\n') + 1) % 64, 0u);  // data 64-byte aligned, as numpy writes
  const auto path = dir.path() / "a.npy";
  write_file(path, *npy);
  const std::string out =
      run("/usr/bin/python3 -c \"import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, a[0,1,2], "
          "a[1,0,1])\" " +
          path.string());
  EXPECT_EQ(out, "float32 (2, 2, 3) 6.5 1.0\n");
}

TEST(Render, AutomaticFormat) {
  Image image = image_of(2, 1, DataType::kUInt8, {{1, 2}, {3, 4}, {5, 6}});
  auto all_valid = render(image, {});
  ASSERT_TRUE(all_valid.ok());
  EXPECT_EQ(all_valid->format, ImageFormat::kJpeg);
  EXPECT_EQ(all_valid->media_type, "image/jpeg");
  image.valid[1] = 0;
  auto masked = render(image, {});
  ASSERT_TRUE(masked.ok());
  EXPECT_EQ(masked->format, ImageFormat::kPng);
  const Decoded d = decode_png(masked->body);
  EXPECT_EQ(d.channels, 4);
  EXPECT_EQ(d.pixels[3], 255);
  EXPECT_EQ(d.pixels[7], 0);
  RenderOptions no_mask;
  no_mask.format = ImageFormat::kPng;
  no_mask.add_mask = false;
  EXPECT_EQ(decode_png(render(image, no_mask)->body).channels, 3);
}

TEST(Render, TypesTheFormatCannotHoldAreStretchedFromTheirRange) {
  // TiTiler without rescale: uint16 stretched from 0..65535, float32 from its full range.
  Image u16 = image_of(2, 1, DataType::kUInt16, {{0, 65535}});
  RenderOptions png;
  png.format = ImageFormat::kPng;
  EXPECT_EQ(decode_png(render(u16, png)->body).depth, 16);  // PNG holds uint16 when asked
  auto automatic = render(u16, {});
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->format, ImageFormat::kJpeg);
  u16.valid[0] = 0;
  const Decoded d = decode_png(render(u16, {})->body);  // automatic PNG: 8-bit
  EXPECT_EQ(d.depth, 8);
  EXPECT_EQ(d.pixels, (std::vector<uint16_t>{0, 0, 255, 255}));
  Image f32 = image_of(1, 1, DataType::kFloat32, {{12.5}});
  f32.bands.push_back({0});
  f32.bands.push_back({0});
  f32.valid[0] = 0;
  EXPECT_EQ(decode_png(render(f32, {})->body).pixels[0], 0);  // masked pixels are 0
}

TEST(Render, RescaleThenColormap) {
  Image image = image_of(3, 1, DataType::kFloat32, {{0, 500, 1000}});
  RenderOptions options;
  options.rescale = *parse_rescale({"0,1000"});
  options.colormap = *named_colormap("viridis");
  options.format = ImageFormat::kPng;
  auto out = render(image, options);
  ASSERT_TRUE(out.ok());
  const Decoded d = decode_png(out->body);
  ASSERT_EQ(d.channels, 4);
  const ColorMap viridis = *named_colormap("viridis");
  // 500 -> 127.5 -> 127 (truncated, as numpy's astype).
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(d.pixels[k], viridis.lut[0][k]);
    EXPECT_EQ(d.pixels[4 + k], viridis.lut[127][k]);
    EXPECT_EQ(d.pixels[8 + k], viridis.lut[255][k]);
  }
  Image two = image_of(1, 1, DataType::kUInt8, {{1}, {2}});
  EXPECT_EQ(render(two, options).error().code, ErrorCode::kBadRequest);
  RenderOptions jpeg;
  jpeg.format = ImageFormat::kJpeg;
  EXPECT_EQ(render(two, jpeg).error().code, ErrorCode::kBadRequest);
}

TEST(Render, NpyCarriesTheMaskInTheDataType) {
  Image image = image_of(2, 1, DataType::kInt16, {{-3, 4}});
  image.valid[0] = 0;
  RenderOptions options;
  options.format = ImageFormat::kNpy;
  auto out = render(image, options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->media_type, "application/x-binary");
  // Two int16 planes: data, then the mask (type min where masked, max where valid).
  const std::string tail = out->body.substr(out->body.size() - 8);
  int16_t v[4];
  std::memcpy(v, tail.data(), 8);
  EXPECT_EQ(v[0], -3);
  EXPECT_EQ(v[1], 4);
  EXPECT_EQ(v[2], -32768);
  EXPECT_EQ(v[3], 32767);
}

TEST(Render, ParseRescaleAndUnscale) {
  auto r = parse_rescale({"0,255", "[-1.5,1e3]"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[1], (Range{-1.5, 1000}));
  EXPECT_FALSE(parse_rescale({"1,2,3"}).ok());
  EXPECT_FALSE(parse_rescale({"a,b"}).ok());
  EXPECT_FALSE(parse_rescale({"1"}).ok());
  RasterInfo info;
  info.scales = {1, 0.5};
  info.offsets = {0, 10};
  Image image = image_of(1, 1, DataType::kUInt16, {{4}});
  unscale(image, info, {2});
  EXPECT_EQ(image.type, DataType::kFloat32);
  EXPECT_DOUBLE_EQ(image.bands[0][0], 12);
  EXPECT_EQ(parse_image_format("jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(parse_image_format("tiff"), ImageFormat::kTiff);
  EXPECT_FALSE(parse_image_format("gif").has_value());
}

}  // namespace
}  // namespace scigate::raster
