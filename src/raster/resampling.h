// Resampling kernels of the warp, with GDAL's warp-kernel semantics (gdalwarpkernel):
// invalid source pixels (nodata, mask, outside) carry no weight and the remaining weights
// are renormalised; an output pixel is invalid when no valid source pixel contributes.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "raster/raster_types.h"

namespace scigate::raster {

// The union of rio-tiler's `resampling` (RasterIO) and `reproject` (warp kernel) names.
enum class Resampling {
  kNearest,
  kBilinear,
  kCubic,
  kCubicSpline,
  kLanczos,
  kGauss,  // RasterIO only in GDAL; approximated here by the cubic B-spline (a Gaussian-like kernel)
  kAverage,
  kMode,
  kMin,
  kMax,
  kMed,
  kQ1,
  kQ3,
  kSum,
  kRms,
};

// rio-tiler's names: "nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "gauss",
// "average", "mode", "min", "max", "med", "q1", "q3", "sum", "rms".
std::optional<Resampling> parse_resampling(std::string_view name);
const char* resampling_name(Resampling method);
// Kernels that sample around a point (as opposed to aggregating a pixel's footprint).
bool is_point_kernel(Resampling method);
// How many source pixels around the sampling point a point kernel may touch, at scale 1.
int kernel_radius(Resampling method);

// Source pixels of one level held in memory: `image` covers the level's pixels
// [x0, x0 + image.width) x [y0, y0 + image.height); the level is level_width x level_height.
struct SourceView {
  const Image* image = nullptr;
  int x0 = 0;
  int y0 = 0;
  int level_width = 0;
  int level_height = 0;

  // Whether (col, row) of the level is inside the view and holds data.
  bool usable(int col, int row) const {
    const int c = col - x0, r = row - y0;
    return c >= 0 && r >= 0 && c < image->width && r < image->height && image->is_valid(c, r);
  }
  double value(size_t band, int col, int row) const { return image->at(band, col - x0, row - y0); }
};

// Samples every band at (sx, sy), in level pixel coordinates (pixel (c, r) spans
// [c, c+1) x [r, r+1)). `scale_x`/`scale_y` are output pixels per source pixel: below 1,
// kernels widen as GDAL's do when downsampling. Writes one value per band into `out`;
// false when the output pixel is invalid.
bool sample_point(const SourceView& view, Resampling method, double sx, double sy, double scale_x, double scale_y,
                  double* out);

// Aggregates every band over the footprint [x0, x1) x [y0, y1) (level pixel coordinates)
// for the area methods (average, mode, min, max, med, q1, q3, sum, rms).
bool sample_area(const SourceView& view, Resampling method, double x0, double y0, double x1, double y1,
                 std::vector<double>& scratch, double* out);

}  // namespace scigate::raster
