// The pixel pipeline after the warp, and TiTiler's rules for turning an Image into bytes:
//   bands / expression  →  unscale  →  rescale  →  colormap  →  format  →  encoder.
// Each step is a function over Image so that the endpoints only wire them.
//
// After a colormap, Image::valid holds the map's alpha (0..255), not only 0/255.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "raster/colormap.h"
#include "raster/projection.h"
#include "raster/raster_types.h"

namespace scigate::raster {

// TiTiler's ImageType: png, pngraw, jpeg, jpg, webp, tif, tiff, npy.
enum class ImageFormat { kPng, kPngRaw, kJpeg, kWebp, kTiff, kNpy };
std::optional<ImageFormat> parse_image_format(std::string_view name);
// TiTiler's media types ("image/png", "image/jpeg", "image/webp",
// "image/tiff; application=geotiff", "application/x-binary").
const char* media_type(ImageFormat format);

using Range = std::pair<double, double>;

// rasterio's dtype_ranges: what TiTiler rescales from when a format cannot hold the type.
Range type_range(DataType type);

// `rescale` query values, one "min,max" each (TiTiler: several for several bands, one
// for all). Failure: kBadRequest naming the bad value.
Result<std::vector<Range>> parse_rescale(const std::vector<std::string>& values);

// rio-tiler's unscale: value * scale + offset per band (the scales and offsets of the
// source bands `bands`, 1-based), the result in float32.
void unscale(Image& image, const RasterInfo& info, const std::vector<int>& bands);

// rio-tiler's rescale: each band's [min, max] (the first range for every band when
// there is only one) stretched linearly onto 0..255 and truncated to uint8; invalid pixels
// become 0.
Image rescale(const Image& image, const std::vector<Range>& ranges);

struct RenderOptions {
  std::optional<ImageFormat> format;  // unset: JPEG, or PNG when some pixel is masked
  std::vector<Range> rescale;
  std::optional<ColorMap> colormap;
  bool add_mask = true;  // TiTiler's return_mask
  int png_level = 6;     // zlib level of `png` (GDAL's default); `pngraw` is always 1
  // Georeferencing of the image, for tif output.
  Crs crs;
  Bounds bounds;
};

struct Rendered {
  std::string body;
  ImageFormat format = ImageFormat::kPng;
  std::string media_type;
};

// TiTiler's render_image: rescale, colormap, the format (automatic: PNG when a mask
// applies, JPEG otherwise, both uint8), a type the format accepts (others are rescaled
// from their type's full range to uint8, as TiTiler warns and does), and the encoder, the
// mask going as alpha (PNG, WebP), as last band (NPY) or as an alpha sample (tif).
// Failure: kBadRequest for what the format cannot hold (e.g. 2 bands to JPEG) or a
// colormap on several bands.
Result<Rendered> render(Image image, const RenderOptions& options);

}  // namespace scigate::raster
