#include "raster/render.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "raster/encoders.h"

namespace scigate::raster {

Range type_range(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return {0, 255};
    case DataType::kInt8:
      return {-128, 127};
    case DataType::kUInt16:
      return {0, 65535};
    case DataType::kInt16:
      return {-32768, 32767};
    case DataType::kUInt32:
      return {0, 4294967295.0};
    case DataType::kInt32:
      return {-2147483648.0, 2147483647.0};
    case DataType::kFloat32:
      return {std::numeric_limits<float>::lowest(), std::numeric_limits<float>::max()};
    case DataType::kFloat64:
      return {std::numeric_limits<double>::lowest(), std::numeric_limits<double>::max()};
  }
  return {0, 255};
}

namespace {

// rio-tiler's linear_rescale onto 0..255, in float64 as numpy computes it.
double linear_rescale(double v, const Range& in) {
  const double clipped = std::clamp(v, in.first, in.second) - in.first;
  return clipped / (in.second - in.first) * 255.0;
}

// numpy's astype(uint8) of a value already within 0..255: truncation.
double truncate_uint8(double v) { return std::isnan(v) ? 0 : std::trunc(std::clamp(v, 0.0, 255.0)); }

// rio-tiler's ImageData.mask: the alpha for uint8 data, else the type's max where valid
// and its min elsewhere (so a float32 NPY mask band holds ±3.4e38, as TiTiler's does).
std::vector<double> mask_band(const Image& image) {
  const Range r = type_range(image.type);
  std::vector<double> mask(image.valid.size());
  for (size_t i = 0; i < mask.size(); ++i) {
    if (image.type == DataType::kUInt8) {
      mask[i] = image.valid[i];
    } else {
      mask[i] = image.valid[i] ? r.second : r.first;
    }
  }
  return mask;
}

bool any_masked(const Image& image) {
  return std::any_of(image.valid.begin(), image.valid.end(), [](uint8_t v) { return v == 0; });
}

bool format_accepts(ImageFormat format, DataType type, bool automatic) {
  switch (format) {
    case ImageFormat::kPng:
    case ImageFormat::kPngRaw:
      // An automatic choice keeps PNG and JPEG outputs of one layer in the same type.
      return type == DataType::kUInt8 || (type == DataType::kUInt16 && !automatic);
    case ImageFormat::kJpeg:
    case ImageFormat::kWebp:
      return type == DataType::kUInt8;
    default:
      return true;
  }
}

Planes planes_of(const Image& image, bool with_mask) {
  Planes p{image.width, image.height, image.type, image.bands, with_mask};
  if (with_mask) p.bands.push_back(mask_band(image));
  return p;
}

Result<std::string> encode(ImageFormat format, const Image& image, bool add_mask, const RenderOptions& options) {
  switch (format) {
    case ImageFormat::kPng:
    case ImageFormat::kPngRaw: {
      Planes p = planes_of(image, add_mask);
      // rio-tiler stretches the 0..255 mask to 0..65535 for 16-bit PNGs.
      if (add_mask && image.type == DataType::kUInt16) {
        for (size_t i = 0; i < image.valid.size(); ++i) p.bands.back()[i] = image.valid[i] / 255.0 * 65535.0;
      }
      return encode_png(p, format == ImageFormat::kPngRaw ? 1 : options.png_level);
    }
    case ImageFormat::kJpeg:
      return encode_jpeg(planes_of(image, false));
    case ImageFormat::kWebp: {
      Image rgb = image;
      // The WebP encoder needs RGB: a single band is repeated, as rio-tiler does.
      if (rgb.bands.size() == 1) rgb.bands = {image.bands[0], image.bands[0], image.bands[0]};
      return encode_webp(planes_of(rgb, add_mask));
    }
    case ImageFormat::kTiff:
      return encode_geotiff(planes_of(image, add_mask), options.crs, options.bounds);
    case ImageFormat::kNpy:
      return encode_npy(planes_of(image, add_mask));
  }
  return Error::bad_request("unknown format");
}

}  // namespace

std::optional<ImageFormat> parse_image_format(std::string_view name) {
  if (name == "png") return ImageFormat::kPng;
  if (name == "pngraw") return ImageFormat::kPngRaw;
  if (name == "jpeg" || name == "jpg") return ImageFormat::kJpeg;
  if (name == "webp") return ImageFormat::kWebp;
  if (name == "tif" || name == "tiff") return ImageFormat::kTiff;
  if (name == "npy") return ImageFormat::kNpy;
  return std::nullopt;
}

const char* media_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng:
    case ImageFormat::kPngRaw:
      return "image/png";
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kWebp:
      return "image/webp";
    case ImageFormat::kTiff:
      return "image/tiff; application=geotiff";
    case ImageFormat::kNpy:
      return "application/x-binary";
  }
  return "application/octet-stream";
}

Result<std::vector<Range>> parse_rescale(const std::vector<std::string>& values) {
  std::vector<Range> ranges;
  for (const std::string& value : values) {
    std::string cleaned;
    // TiTiler tolerates brackets: "[0,255]".
    for (char c : value) {
      if (c != '[' && c != ']' && c != '|') cleaned.push_back(c);
    }
    const size_t comma = cleaned.find(',');
    const auto bad = [&] { return Error::bad_request("invalid rescale format: " + value); };
    if (comma == std::string::npos || cleaned.find(',', comma + 1) != std::string::npos) return bad();
    const std::string a = cleaned.substr(0, comma), b = cleaned.substr(comma + 1);
    char* end_a = nullptr;
    char* end_b = nullptr;
    const double lo = std::strtod(a.c_str(), &end_a), hi = std::strtod(b.c_str(), &end_b);
    if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') return bad();
    ranges.emplace_back(lo, hi);
  }
  return ranges;
}

void unscale(Image& image, const RasterInfo& info, const std::vector<int>& bands) {
  for (size_t k = 0; k < image.bands.size() && k < bands.size(); ++k) {
    const size_t b = static_cast<size_t>(bands[k] - 1);
    const double scale = b < info.scales.size() ? info.scales[b] : 1.0;
    const double offset = b < info.offsets.size() ? info.offsets[b] : 0.0;
    for (double& v : image.bands[k]) {
      const float x = static_cast<float>(v);  // rio-tiler casts to float32 first
      v = static_cast<double>(static_cast<float>(x * static_cast<float>(scale) + static_cast<float>(offset)));
    }
  }
  image.type = DataType::kFloat32;
}

Image rescale(const Image& image, const std::vector<Range>& ranges) {
  Image out = image;
  out.type = DataType::kUInt8;
  for (size_t b = 0; b < out.bands.size(); ++b) {
    const Range& in = ranges.size() == out.bands.size() ? ranges[b] : ranges.front();
    for (size_t i = 0; i < out.bands[b].size(); ++i) {
      out.bands[b][i] = image.valid[i] ? truncate_uint8(linear_rescale(image.bands[b][i], in)) : 0;
    }
  }
  return out;
}

Result<Rendered> render(Image image, const RenderOptions& options) {
  if (!options.rescale.empty()) image = rescale(image, options.rescale);
  if (options.colormap) {
    auto colored = apply_colormap(image, *options.colormap);
    if (!colored) return colored.error();
    image = std::move(*colored);
  }
  const bool automatic = !options.format;
  const ImageFormat format = options.format.value_or(any_masked(image) ? ImageFormat::kPng : ImageFormat::kJpeg);
  if (!format_accepts(format, image.type, automatic)) {
    // TiTiler's fallback for types the format cannot hold: the type's full range
    // stretched onto uint8 (so float data comes out flat without an explicit rescale).
    image = rescale(image, {type_range(image.type)});
  }
  auto body = encode(format, image, options.add_mask, options);
  if (!body) return body.error();
  return Rendered{std::move(*body), format, media_type(format)};
}

}  // namespace scigate::raster
