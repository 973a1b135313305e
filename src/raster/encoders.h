// Image encoders writing to memory: PNG (libpng), JPEG (libturbojpeg), WebP (libwebp),
// GeoTIFF (libtiff + libgeotiff) and NPY (numpy's format). They encode what they are
// given; which format and which type to encode is decided by render.h (TiTiler's rules).
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "raster/projection.h"
#include "raster/raster_types.h"

namespace scigate::raster {

// Pixel planes, band-sequential, with values already within `type`'s range. When `alpha`
// is set, the last band is the alpha channel (or mask band).
struct Planes {
  int width = 0;
  int height = 0;
  DataType type = DataType::kUInt8;
  std::vector<std::vector<double>> bands;
  bool alpha = false;
};

// 1 to 4 bands (gray, gray+alpha, RGB, RGBA) of uint8 or uint16. `zlevel` as GDAL's ZLEVEL.
Result<std::string> encode_png(const Planes& planes, int zlevel = 6);
// 1 (gray) or 3 (RGB) uint8 bands, no alpha.
Result<std::string> encode_jpeg(const Planes& planes, int quality = 85);
// 3 (RGB) or 4 (RGBA) uint8 bands; lossy at `quality`, alpha kept.
Result<std::string> encode_webp(const Planes& planes, float quality = 75);
// Any type and band count, pixel-interleaved, uncompressed; the alpha band is written as
// an unassociated-alpha extra sample; georeferenced by `bounds` in `crs` (EPSG codes; a
// CRS without one gets no CRS keys).
Result<std::string> encode_geotiff(const Planes& planes, const Crs& crs, const Bounds& bounds);
// numpy's .npy (version 1.0): an array (bands, height, width) of `type`, little-endian.
Result<std::string> encode_npy(const Planes& planes);

}  // namespace scigate::raster
