// The raster component's shared vocabulary: what a raster is (RasterInfo), a block of
// pixels (Image) and the one interface every pixel source implements (RasterSource).
//
// Data flow of a map tile: RasterSource (the COG reader: header and block caches over an
// ObjectStore, or an in-memory array in tests) → warp (reprojection and resampling onto
// the tile's grid, choosing the overview by resolution) → band selection / expression →
// rescale / colormap → encoder (PNG, JPEG, WebP, TIFF, NPY). Handlers stay pure over
// these pieces; only the reader does I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace scigate::raster {

enum class DataType { kUInt8, kInt8, kUInt16, kInt16, kUInt32, kInt32, kFloat32, kFloat64 };

// "uint8", "int16", "float32", ... (numpy's names, as TiTiler reports them).
const char* data_type_name(DataType type);
size_t data_type_bytes(DataType type);

// Affine pixel → CRS transform in GDAL's order:
//   x = t[0] + col * t[1] + row * t[2];   y = t[3] + col * t[4] + row * t[5]
using GeoTransform = std::array<double, 6>;

struct Crs {
  int epsg = 0;            // 0 when the CRS has no EPSG code
  std::string definition;  // what PROJ accepts: "EPSG:32633", or a PROJ string / WKT
};

// One resolution level: 0 is the full-resolution image, then overviews, coarser each.
struct Level {
  int width = 0;
  int height = 0;
  int block_width = 0;  // tile size in the file (a strip is a block as wide as the image)
  int block_height = 0;
  // Level-0 pixels per pixel of this level, when exact: pyramids made in memory halve
  // each level (sides rounded up), so their factors are powers of two whatever the
  // sides. 0: width and height ratios to level 0 (a file's overviews).
  double factor = 0;
};

struct RasterInfo {
  int width = 0;  // of level 0
  int height = 0;
  int band_count = 0;
  DataType type = DataType::kUInt8;
  std::optional<double> nodata;
  bool has_mask = false;  // an internal mask (per-dataset mask IFD) marks valid pixels
  int alpha_band = 0;     // 1-based band that is alpha (TIFF ExtraSamples), 0 when none
  Crs crs;
  GeoTransform transform{};  // of level 0
  std::vector<Level> levels;
  std::vector<std::string> band_descriptions;  // "" when the file gives none
  std::vector<double> scales;                  // per band, for `unscale` (1 when absent)
  std::vector<double> offsets;                 // per band (0 when absent)
  std::string compression;                     // "deflate", "lzw", "jpeg", ...
  std::string photometric;                     // "minisblack", "rgb", "ycbcr", "palette"
  // The TIFF ColorMap of a "palette" image as GDAL reads it: one RGBA entry (8 bits per
  // channel, opaque) per pixel value, at most 256; empty for other images.
  std::vector<std::array<uint8_t, 4>> palette;
};

// Level-0 pixels per pixel of `level`, along x and y.
double level_factor_x(const RasterInfo& info, int level);
double level_factor_y(const RasterInfo& info, int level);

// Pixels of some bands over a window, band-sequential, as doubles whatever the source
// type (exact for every type but 64-bit integers, which TIFF rasters do not use here).
// `valid` is 255 where a pixel holds data and 0 where it is nodata (in every band read),
// NaN (in any), masked (internal mask, or alpha band 0) or outside the source: it becomes
// the alpha channel or the PNG mask.
struct Image {
  int width = 0;
  int height = 0;
  DataType type = DataType::kUInt8;        // of the source, for formats that keep it (tif, npy)
  std::vector<std::vector<double>> bands;  // bands[b][row * width + col]
  std::vector<uint8_t> valid;              // width * height

  double at(size_t band, int col, int row) const { return bands[band][static_cast<size_t>(row) * width + col]; }
  bool is_valid(int col, int row) const { return valid[static_cast<size_t>(row) * width + col] != 0; }
};

// A window of one level, in that level's pixels.
struct Window {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Reads pixel windows of one raster. Implementations: the COG reader (cog_reader.h) and
// in-memory arrays in tests. Thread-safe: one source may serve several requests at once.
class RasterSource {
 public:
  virtual ~RasterSource() = default;
  virtual const RasterInfo& info() const = 0;
  // The pixels of `bands` (1-based, in that order) in `window` of `level`. Parts of the
  // window outside the raster come back invalid. Failure: kBadRequest for a band or
  // level that does not exist; the reader's I/O and decoding errors.
  virtual Result<Image> read(int level, const Window& window, const std::vector<int>& bands) = 0;
};

}  // namespace scigate::raster
