// PNG and JPEG files as deep zoom reads them from any bucket: decode_image (libpng,
// TurboJPEG, the pixel limit checked from the header), the in-memory pyramid made from
// the result, and a DZI tile and an IIIF size rendered from it.
// Invariants: every failure of the file is a 400 or 413 with the decoder's wording (never
// 5xx); a decoded image has the bands and bytes its header says; every pyramid level is
// half the one below (rounded up) down to 1 x 1; tiles have the asked size.
#include <memory>

#include "fuzz_check.h"
#include "raster/deepzoom.h"
#include "raster/flat_image.h"
#include "raster/image_decode.h"

namespace {

using namespace scigate;
using namespace scigate::raster;

// Small enough that no input makes libFuzzer's malloc limit the first failure.
constexpr int64_t kMaxPixels = 1 << 20;

bool decoder_message(const std::string& m) {
  return m.rfind("corrupt PNG: ", 0) == 0 || m.rfind("corrupt JPEG: ", 0) == 0 ||
         m.rfind("unsupported JPEG: ", 0) == 0 || m == "not a PNG or JPEG image";
}

void check_pyramid(const RasterInfo& info) {
  FUZZ_CHECK(!info.levels.empty());
  for (size_t k = 1; k < info.levels.size(); ++k) {
    FUZZ_CHECK(info.levels[k].width == (info.levels[k - 1].width + 1) / 2);
    FUZZ_CHECK(info.levels[k].height == (info.levels[k - 1].height + 1) / 2);
  }
  FUZZ_CHECK(info.levels.back().width == 1 && info.levels.back().height == 1);
}

void render_some(FlatImage& image) {
  const RasterInfo& info = image.info();
  const DziLayout layout{info.width, info.height, 254, 1};
  for (int level : {0, layout.max_level() / 2, layout.max_level()}) {
    auto tile = dzi_tile(layout, level, 0, 0);
    FUZZ_CHECK(tile.ok());
    auto rendered = render_dzi_tile(image, *tile, ImageFormat::kPng, 1);
    FUZZ_CHECK(rendered.ok());
  }
  const PixelRegion all{0, 0, static_cast<double>(info.width), static_cast<double>(info.height)};
  auto small = render_pixels(image, all, std::max(1, info.width / 3), std::max(1, info.height / 3), IiifQuality::kGray,
                             ImageFormat::kJpeg, 1);
  FUZZ_CHECK(small.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = decode_image(std::string_view(reinterpret_cast<const char*>(data), size), kMaxPixels);
  if (!decoded) {
    const Error& e = decoded.error();
    FUZZ_CHECK((e.code == ErrorCode::kBadRequest && decoder_message(e.client)) ||
               (e.code == ErrorCode::kPayloadTooLarge && e.client.find("max_flat_pixels") != std::string::npos));
    return 0;
  }
  FUZZ_CHECK(decoded->width > 0 && decoded->height > 0 && decoded->bands >= 1 && decoded->bands <= 4);
  FUZZ_CHECK(int64_t{decoded->width} * decoded->height <= kMaxPixels);
  FUZZ_CHECK(decoded->samples.size() ==
             static_cast<size_t>(decoded->width) * decoded->height * decoded->bands * decoded->sample_bytes);
  auto image = FlatImage::from_decoded(std::move(decoded).value());
  check_pyramid(image->info());
  render_some(*image);
  return 0;
}
