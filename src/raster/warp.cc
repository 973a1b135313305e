#include "raster/warp.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scigate::raster {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Rows shorter than this are transformed exactly (GDAL's approximator does the same).
constexpr int kExactRowPoints = 5;
// Output pixels computed per block, and source pixels per band read at once: a bbox image
// or a raster without overviews never needs one huge buffer.
constexpr int64_t kBlockPixels = 1 << 18;
constexpr int64_t kMaxStripePixels = 1 << 22;

Result<std::vector<int>> resolve_bands(const RasterInfo& info, const std::vector<int>& requested) {
  std::vector<int> bands = requested;
  if (bands.empty()) {
    for (int b = 1; b <= info.band_count; ++b) bands.push_back(b);
  }
  for (int b : bands) {
    if (b < 1 || b > info.band_count) {
      return Error::bad_request("band " + std::to_string(b) + " does not exist (the raster has " +
                                std::to_string(info.band_count) + ")");
    }
  }
  return bands;
}

// `t` (of level 0) for the pixels of `level`.
GeoTransform level_transform(const RasterInfo& info, GeoTransform t, int level) {
  if (level == 0 || info.levels.empty()) return t;
  const double fx = level_factor_x(info, level);
  const double fy = level_factor_y(info, level);
  t[1] *= fx, t[4] *= fx;
  t[2] *= fy, t[5] *= fy;
  return t;
}

Level level_of(const RasterInfo& info, int level) {
  if (info.levels.empty()) return Level{info.width, info.height, info.width, info.height};
  return info.levels[level];
}

// Maps target pixel coordinates to source-level pixel coordinates through the target's
// affine transform, PROJ, the longitude wrap and the inverse of the source's transform.
class PixelMapper {
 public:
  PixelMapper(const TargetGrid& grid, const Transformer& transformer, const GeoTransform& source, bool wrap,
              double wrap_center, double max_error)
      : transformer_(transformer), wrap_(wrap), center_(wrap_center), max_error_(max_error) {
    x0_ = grid.bounds.left, y0_ = grid.bounds.top;
    rx_ = grid.bounds.width() / grid.width, ry_ = grid.bounds.height() / grid.height;
    const double det = source[1] * source[5] - source[2] * source[4];
    inv_ = {source[5] / det, -source[2] / det, -source[4] / det, source[1] / det};
    src_ = source;
  }

  // Exact mapping of n points (in place).
  void exact(double* x, double* y, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      x[i] = x0_ + x[i] * rx_;
      y[i] = y0_ - y[i] * ry_;
    }
    transformer_.transform(x, y, n);
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      if (wrap_) x[i] += 360.0 * std::round((center_ - x[i]) / 360.0);
      const double dx = x[i] - src_[0], dy = y[i] - src_[3];
      x[i] = inv_[0] * dx + inv_[1] * dy;
      y[i] = inv_[2] * dx + inv_[3] * dy;
    }
  }

  // Points (px0 + i * step, py) for i in [0, n), approximated as GDAL's
  // GDALApproxTransform: exact at both ends and the middle; linear in between when the
  // middle's error is small enough, otherwise each half on its own.
  void row(double px0, double step, double py, int n, double* sx, double* sy) const {
    if (n <= 0) return;
    if (max_error_ <= 0) {  // every point exactly, in one batch
      for (int i = 0; i < n; ++i) sx[i] = px0 + i * step, sy[i] = py;
      exact(sx, sy, n);
      return;
    }
    const auto exact_at = [&](int i) {
      sx[i] = px0 + i * step, sy[i] = py;
      exact(&sx[i], &sy[i], 1);
    };
    exact_at(0);
    if (n > 1) exact_at(n - 1);
    span(px0, step, py, 0, n - 1, sx, sy, exact_at);
  }

 private:
  template <typename Exact>
  void span(double px0, double step, double py, int lo, int hi, double* sx, double* sy, const Exact& exact_at) const {
    if (hi - lo <= 1) return;
    if (hi - lo + 1 <= kExactRowPoints) {
      for (int i = lo + 1; i < hi; ++i) exact_at(i);
      return;
    }
    const int mid = (lo + hi) / 2;
    exact_at(mid);
    const double t = static_cast<double>(mid - lo) / (hi - lo);
    const double ex = sx[lo] + t * (sx[hi] - sx[lo]) - sx[mid], ey = sy[lo] + t * (sy[hi] - sy[lo]) - sy[mid];
    if (std::isfinite(ex) && std::isfinite(ey) && std::abs(ex) + std::abs(ey) <= max_error_) {
      // As GDAL, the middle point too takes its interpolated value.
      for (int i = lo + 1; i < hi; ++i) {
        const double u = static_cast<double>(i - lo) / (hi - lo);
        sx[i] = sx[lo] + u * (sx[hi] - sx[lo]);
        sy[i] = sy[lo] + u * (sy[hi] - sy[lo]);
      }
      return;
    }
    span(px0, step, py, lo, mid, sx, sy, exact_at);
    span(px0, step, py, mid, hi, sx, sy, exact_at);
  }

  const Transformer& transformer_;
  bool wrap_;
  double center_;
  double max_error_;
  double x0_, y0_, rx_, ry_;
  GeoTransform src_;
  std::array<double, 4> inv_;
};

// Source coordinates of a block of output rows: pixel centres for point kernels, and for
// area kernels also the corners (one more row and column).
struct BlockCoords {
  int row0 = 0, rows = 0, width = 0;
  std::vector<double> cx, cy;  // centres, rows x width
  std::vector<double> kx, ky;  // corners, (rows + 1) x (width + 1), area kernels only
};

BlockCoords map_block(const PixelMapper& mapper, int row0, int rows, int width, bool corners) {
  BlockCoords c;
  c.row0 = row0, c.rows = rows, c.width = width;
  c.cx.resize(static_cast<size_t>(rows) * width), c.cy.resize(c.cx.size());
  for (int r = 0; r < rows; ++r) {
    const size_t o = static_cast<size_t>(r) * width;
    mapper.row(0.5, 1.0, row0 + r + 0.5, width, &c.cx[o], &c.cy[o]);
  }
  if (corners) {
    c.kx.resize(static_cast<size_t>(rows + 1) * (width + 1)), c.ky.resize(c.kx.size());
    for (int r = 0; r <= rows; ++r) {
      const size_t o = static_cast<size_t>(r) * (width + 1);
      mapper.row(0.0, 1.0, row0 + r, width + 1, &c.kx[o], &c.ky[o]);
    }
  }
  return c;
}

// Output pixels per source pixel along x and y for a block (GDAL's dfXScale): the block's
// size over the source window its edges map to, clipped to the level, as gdalwarp's
// ComputeSourceWindow derives it. A block at the raster's edge thus gets the scale of its
// clipped window, as in GDAL.
std::pair<double, double> block_scale(const PixelMapper& mapper, const BlockCoords& c, const Level& level) {
  constexpr int kSteps = 21;
  std::vector<double> xs, ys;
  for (int i = 0; i <= kSteps; ++i) {
    const double t = static_cast<double>(i) / kSteps;
    xs.insert(xs.end(), {t * c.width, t * c.width, 0.0, static_cast<double>(c.width)});
    ys.insert(ys.end(), {double(c.row0), double(c.row0 + c.rows), c.row0 + t * c.rows, c.row0 + t * c.rows});
  }
  mapper.exact(xs.data(), ys.data(), xs.size());
  double x0 = kInf, x1 = -kInf, y0 = kInf, y1 = -kInf;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) continue;
    x0 = std::min(x0, xs[i]), x1 = std::max(x1, xs[i]);
    y0 = std::min(y0, ys[i]), y1 = std::max(y1, ys[i]);
  }
  if (!std::isfinite(x0)) return {1.0, 1.0};
  // GDAL 3.6 clips the far side only (its raw size is min(size - floor(min), clamped max -
  // min)), so a window starting before the raster keeps its full width: copied to match.
  const double w = std::min(level.width - std::max(0.0, std::floor(x0)), std::min<double>(level.width, x1) - x0);
  const double h = std::min(level.height - std::max(0.0, std::floor(y0)), std::min<double>(level.height, y1) - y0);
  return {w > 0 ? c.width / w : 1.0, h > 0 ? c.rows / h : 1.0};
}

// The level pixels the block needs: the bounding box of its coordinates grown by the
// kernel's reach, clipped to the level. Empty when the block misses the raster.
Window needed_window(const BlockCoords& c, const Level& level, double reach_x, double reach_y) {
  double x0 = kInf, x1 = -kInf, y0 = kInf, y1 = -kInf;
  const auto add = [&](const std::vector<double>& xs, const std::vector<double>& ys) {
    for (size_t i = 0; i < xs.size(); ++i) {
      if (!std::isfinite(xs[i])) continue;
      x0 = std::min(x0, xs[i]), x1 = std::max(x1, xs[i]);
      y0 = std::min(y0, ys[i]), y1 = std::max(y1, ys[i]);
    }
  };
  add(c.cx, c.cy);
  add(c.kx, c.ky);
  if (!std::isfinite(x0)) return {};
  // Clamped before the cast: a hostile or degenerate transform maps pixels to 1e80.
  const auto clamped = [](double v, int n) { return static_cast<int>(std::clamp(v, 0.0, static_cast<double>(n))); };
  const int wx0 = clamped(std::floor(x0 - reach_x), level.width);
  const int wy0 = clamped(std::floor(y0 - reach_y), level.height);
  const int wx1 = clamped(std::ceil(x1 + reach_x), level.width);
  const int wy1 = clamped(std::ceil(y1 + reach_y), level.height);
  if (wx1 <= wx0 || wy1 <= wy0) return {};
  return {wx0, wy0, wx1 - wx0, wy1 - wy0};
}

bool is_nodata(double value, double nodata) { return std::isnan(nodata) ? std::isnan(value) : value == nodata; }

// Replaces the source's own nodata by the caller's: validity is recomputed from the values
// for every pixel inside the level (an internal mask still applies).
void apply_nodata_override(Image& image, const RasterInfo& info, double nodata) {
  const bool is_float = info.type == DataType::kFloat32 || info.type == DataType::kFloat64;
  const size_t n = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < n; ++i) {
    if (info.has_mask && !image.valid[i]) continue;
    bool all_nodata = true, any_nan = false;
    for (const auto& band : image.bands) {
      all_nodata = all_nodata && is_nodata(band[i], nodata);
      any_nan = any_nan || (is_float && std::isnan(band[i]));
    }
    image.valid[i] = (all_nodata || any_nan) ? 0 : 255;
  }
}

// Outside pixels of a window never become valid through an override: the reader marks
// them invalid and they must stay so.
void keep_outside_invalid(Image& image, const Window& w, const Level& level) {
  for (int r = 0; r < image.height; ++r) {
    for (int c = 0; c < image.width; ++c) {
      const int col = w.x + c, row = w.y + r;
      if (col < 0 || row < 0 || col >= level.width || row >= level.height) {
        image.valid[static_cast<size_t>(r) * image.width + c] = 0;
      }
    }
  }
}

Result<Image> read_window(RasterSource& source, int level, const Window& w, const std::vector<int>& bands,
                          const ReadOptions& options) {
  auto image = source.read(level, w, bands);
  if (!image) return image;
  if (options.nodata) {
    apply_nodata_override(*image, source.info(), *options.nodata);
    keep_outside_invalid(*image, w, level_of(source.info(), level));
  }
  return image;
}

// GDAL rounds interpolated values to the output type (GWKRoundValueT) and clamps them.
double to_type(double v, DataType type) {
  switch (type) {
    case DataType::kFloat64:
      return v;
    case DataType::kFloat32:
      return static_cast<double>(static_cast<float>(v));
    default:
      break;
  }
  double lo = 0, hi = 255;
  switch (type) {
    case DataType::kInt8:
      lo = -128, hi = 127;
      break;
    case DataType::kUInt16:
      hi = 65535;
      break;
    case DataType::kInt16:
      lo = -32768, hi = 32767;
      break;
    case DataType::kUInt32:
      hi = 4294967295.0;
      break;
    case DataType::kInt32:
      lo = -2147483648.0, hi = 2147483647.0;
      break;
    default:
      break;
  }
  if (std::isnan(v)) return lo;
  return std::clamp(std::floor(v + 0.5), lo, hi);
}

struct WarpJob {
  const ReadOptions* options;
  const std::vector<int>* bands;
  Resampling method;
  int level;
  Level dims;
  DataType type;
};

// Evaluates the output pixels of block `c` whose key row lies in [r0, r1) from `view`.
void evaluate(const WarpJob& job, const BlockCoords& c, const SourceView& view, const std::vector<int>& keys, int r0,
              int r1, double scale_x, double scale_y, Image& out) {
  const size_t bands = job.bands->size();
  std::vector<double> values(bands), scratch;
  const bool point = is_point_kernel(job.method);
  for (int r = 0; r < c.rows; ++r) {
    for (int col = 0; col < c.width; ++col) {
      const size_t i = static_cast<size_t>(r) * c.width + col;
      if (keys[i] < r0 || keys[i] >= r1) continue;
      bool ok;
      if (point) {
        ok = sample_point(view, job.method, c.cx[i], c.cy[i], scale_x, scale_y, values.data());
      } else {
        const size_t k = static_cast<size_t>(r) * (c.width + 1) + col, k2 = k + c.width + 2;
        ok = std::isfinite(c.kx[k]) && std::isfinite(c.kx[k2]) && c.cx[i] >= 0 && c.cy[i] >= 0 &&
             c.cx[i] < job.dims.width && c.cy[i] < job.dims.height &&
             sample_area(view, job.method, c.kx[k], c.ky[k], c.kx[k2], c.ky[k2], scratch, values.data());
      }
      if (!ok) continue;
      const size_t o = static_cast<size_t>(c.row0 + r) * out.width + col;
      for (size_t b = 0; b < bands; ++b) out.bands[b][o] = to_type(values[b], job.type);
      out.valid[o] = 255;
    }
  }
}

// Reads the block's source window in stripes of rows and evaluates each output pixel in
// the stripe holding its key row (the row of its centre, or the top of its footprint).
Status warp_block(RasterSource& source, const WarpJob& job, const PixelMapper& mapper, const BlockCoords& c,
                  Image& out) {
  const auto [scale_x, scale_y] = block_scale(mapper, c, job.dims);
  const bool point = is_point_kernel(job.method);
  const double reach_x = point ? kernel_radius(job.method) / std::min(scale_x, 1.0) + 2 : 2;
  const double reach_y = point ? kernel_radius(job.method) / std::min(scale_y, 1.0) + 2 : 2;
  const Window need = needed_window(c, job.dims, reach_x, reach_y);
  if (need.width == 0) return ok_status();
  std::vector<int> keys(c.cx.size());
  int margin = static_cast<int>(std::ceil(reach_y));
  for (int r = 0; r < c.rows; ++r) {
    for (int col = 0; col < c.width; ++col) {
      const size_t i = static_cast<size_t>(r) * c.width + col;
      double y = c.cy[i];
      if (!point) {
        const size_t k = static_cast<size_t>(r) * (c.width + 1) + col, k2 = k + c.width + 2;
        y = std::min(c.ky[k], c.ky[k2]);
        if (std::isfinite(c.ky[k2] - c.ky[k]))
          margin = std::max(margin, static_cast<int>(std::abs(c.ky[k2] - c.ky[k])) + 2);
      }
      const double clamped = std::clamp(std::isfinite(y) ? y : need.y, double(need.y), need.y + need.height - 1.0);
      keys[i] = static_cast<int>(std::floor(clamped));
    }
  }
  const int64_t stripe = std::max<int64_t>(1, kMaxStripePixels / need.width);
  for (int r0 = need.y; r0 < need.y + need.height; r0 += static_cast<int>(stripe)) {
    const int r1 = static_cast<int>(std::min<int64_t>(need.y + need.height, r0 + stripe));
    const int ry0 = std::max(need.y, r0 - margin), ry1 = std::min(need.y + need.height, r1 + margin);
    const Window w{need.x, ry0, need.width, ry1 - ry0};
    auto image = read_window(source, job.level, w, *job.bands, *job.options);
    if (!image) return image.error();
    const SourceView view{&*image, w.x, w.y, job.dims.width, job.dims.height};
    evaluate(job, c, view, keys, r0, r1, scale_x, scale_y, out);
  }
  return ok_status();
}

// Level-0 pixels per output pixel as gdalwarp -te/-ts measures it to pick an overview
// (gdalwarp_lib.cpp, "figure out the corresponding window"): the x extent, in source
// pixels, of a 10 x 10 grid of output points spanning the whole output, over the output
// width. Not the raster's natural resolution, which tells another level where x and y
// scale differently (EPSG:4326 far from the equator). 0 when no point lands anywhere.
double window_ratio(const PixelMapper& level0, const TargetGrid& grid) {
  constexpr int kPoints = 10;
  std::vector<double> xs, ys;
  for (int i = 0; i < kPoints; ++i) {
    for (int j = 0; j < kPoints; ++j) {
      xs.push_back(grid.width * static_cast<double>(i) / (kPoints - 1));
      ys.push_back(grid.height * static_cast<double>(j) / (kPoints - 1));
    }
  }
  level0.exact(xs.data(), ys.data(), xs.size());
  double x0 = kInf, x1 = -kInf;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) continue;
    x0 = std::min(x0, xs[i]), x1 = std::max(x1, xs[i]);
  }
  return x1 > x0 ? (x1 - x0) / grid.width : 0;
}

Image empty_image(int width, int height, size_t bands, DataType type) {
  Image image;
  image.width = width, image.height = height, image.type = type;
  const size_t n = static_cast<size_t>(width) * height;
  image.bands.assign(bands, std::vector<double>(n, 0.0));
  image.valid.assign(n, 0);
  return image;
}

}  // namespace

Resampling effective_resampling(const ReadOptions& options, bool reprojecting) {
  if (!reprojecting) return options.resampling;
  return options.reproject != Resampling::kNearest ? options.reproject : options.resampling;
}

int choose_level(const RasterInfo& info, double natural_resolution, double target_resolution) {
  const int count = static_cast<int>(info.levels.size());
  if (count <= 1 || !(natural_resolution > 0)) return 0;
  const double ratio = target_resolution / natural_resolution;
  if (!(ratio > 1)) return 0;
  const auto factor = [&](int k) { return level_factor_x(info, k); };
  // gdalwarp's -ovr AUTO: the last level finer than the target, or one within 0.1 of it.
  for (int k = 0; k < count - 1; ++k) {
    if (factor(k) < ratio && factor(k + 1) > ratio) return k;
    if (std::abs(factor(k) - ratio) < 0.1) return k;
  }
  return count - 1;
}

namespace {

// kMaxWarpValues, for both warps (the bands of a file's claim, the size of a request's).
Status check_output_values(int width, int height, size_t bands) {
  if (static_cast<uint64_t>(width) * static_cast<uint64_t>(height) * bands > kMaxWarpValues) {
    return Error::bad_request(std::to_string(bands) + " bands of " + std::to_string(width) + "x" +
                              std::to_string(height) +
                              " pixels are too many values for one image: choose "
                              "bands with bidx or expression, or a smaller size");
  }
  return ok_status();
}

// The one pass of both warps: output pixel centres through `mapper` onto `level`.
Result<Image> warp_onto(RasterSource& source, const TargetGrid& grid, const PixelMapper& mapper, int level,
                        const std::vector<int>& bands, Resampling method, const ReadOptions& options) {
  const RasterInfo& info = source.info();
  const WarpJob job{&options, &bands, method, level, level_of(info, level), info.type};
  Image out = empty_image(grid.width, grid.height, bands.size(), info.type);
  const int block_rows = static_cast<int>(std::max<int64_t>(16, kBlockPixels / grid.width));
  for (int row0 = 0; row0 < grid.height; row0 += block_rows) {
    const int rows = std::min(block_rows, grid.height - row0);
    const BlockCoords coords = map_block(mapper, row0, rows, grid.width, !is_point_kernel(method));
    if (auto status = warp_block(source, job, mapper, coords, out); !status) return status.error();
  }
  return out;
}

}  // namespace

Result<Image> warp(RasterSource& source, const TargetGrid& grid, const ReadOptions& options) {
  const RasterInfo& info = source.info();
  if (grid.width <= 0 || grid.height <= 0) return Error::bad_request("output size must be positive");
  if (!(grid.bounds.width() > 0) || !(grid.bounds.height() > 0)) return Error::bad_request("empty bounds");
  auto bands = resolve_bands(info, options.bands);
  if (!bands) return bands.error();
  if (auto status = check_output_values(grid.width, grid.height, bands->size()); !status) return status.error();
  auto transformer = Transformer::get(grid.crs, info.crs);
  if (!transformer) return transformer.error();
  const bool reprojecting = !(*transformer)->is_identity();
  const Resampling method = effective_resampling(options, reprojecting);
  const Bounds footprint = raster_bounds(info);
  const double wrap_center = (footprint.left + footprint.right) / 2;
  const int level = choose_level(info, 1.0,
                                 window_ratio(PixelMapper(grid, **transformer, info.transform, is_geographic(info.crs),
                                                          wrap_center, options.max_error),
                                              grid));
  const PixelMapper mapper(grid, **transformer, level_transform(info, info.transform, level), is_geographic(info.crs),
                           wrap_center, options.max_error);
  return warp_onto(source, grid, mapper, level, *bands, method, options);
}

namespace {

// The window of `level` that maps one to one onto a width x height output of `region`,
// when there is one: the level's factors exact and the region on its pixel grid.
std::optional<Window> aligned_window(const RasterInfo& info, int level, const PixelRegion& region, int width,
                                     int height) {
  const double fx = level_factor_x(info, level), fy = level_factor_y(info, level);
  const double x = region.x / fx, y = region.y / fy, w = region.width / fx, h = region.height / fy;
  const auto whole = [](double v) { return std::abs(v - std::round(v)) < 1e-9 && std::abs(v) < 1e9; };
  if (!whole(x) || !whole(y) || !whole(w) || !whole(h) || std::lround(w) != width || std::lround(h) != height) {
    return std::nullopt;
  }
  return Window{static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y)), width, height};
}

}  // namespace

Result<Image> resample_pixels(RasterSource& source, const PixelRegion& region, int width, int height,
                              const ReadOptions& options) {
  const RasterInfo& info = source.info();
  if (width <= 0 || height <= 0) return Error::bad_request("output size must be positive");
  if (!(region.width > 0) || !(region.height > 0)) return Error::bad_request("empty region");
  auto bands = resolve_bands(info, options.bands);
  if (!bands) return bands.error();
  if (auto status = check_output_values(width, height, bands->size()); !status) return status.error();
  // Pixel space as a CRS whose y grows upwards (as the mapper's grids do): level-0 pixel
  // (c, r) spans x in [c, c+1), y in (-r-1, -r].
  const GeoTransform pixels{0, 1, 0, 0, 0, -1};
  const TargetGrid grid{Crs{}, Bounds{region.x, -(region.y + region.height), region.x + region.width, -region.y}, width,
                        height};
  // The finer of the two axes decides, so that neither is read coarser than asked.
  const double resolution = std::min(region.width / width, region.height / height);
  const int level = choose_level(info, 1.0, resolution);
  if (auto window = aligned_window(info, level, region, width, height); window && !options.nodata) {
    // Each output pixel is one pixel of the level (a DZI tile at full resolution, or at a
    // level of an in-memory pyramid): what every kernel gives there is the pixel itself.
    return source.read(level, *window, *bands);
  }
  const auto identity = Transformer::identity();
  const PixelMapper mapper(grid, *identity, level_transform(info, pixels, level), false, 0, options.max_error);
  return warp_onto(source, grid, mapper, level, *bands, options.resampling, options);
}

namespace {

// rio-tiler's _get_width_height: the longer side becomes max_size (never enlarging).
std::pair<int, int> fit_max_size(int max_size, int height, int width) {
  if (std::max(height, width) < max_size) return {height, width};
  const double ratio = static_cast<double>(height) / width;
  if (ratio > 1) return {max_size, static_cast<int>(std::ceil(max_size / ratio))};
  return {static_cast<int>(std::ceil(max_size * ratio)), max_size};
}

Result<std::pair<int, int>> output_size(const SizeRequest& size, int natural_height, int natural_width) {
  if ((size.width && *size.width <= 0) || (size.height && *size.height <= 0) ||
      (size.max_size && *size.max_size <= 0)) {
    return Error::bad_request("width, height and max_size must be positive");
  }
  const double ratio = static_cast<double>(natural_height) / natural_width;
  if (size.width && size.height) return std::pair{*size.height, *size.width};
  if (size.width) return std::pair{static_cast<int>(std::ceil(*size.width * ratio)), *size.width};
  if (size.height) return std::pair{*size.height, static_cast<int>(std::ceil(*size.height / ratio))};
  if (size.max_size) return fit_max_size(*size.max_size, natural_height, natural_width);
  return std::pair{natural_height, natural_width};
}

// Pixel sizes of the raster in `crs`: its own along each axis, or GDAL's suggestion.
Result<std::pair<double, double>> natural_resolution(const RasterInfo& info, const Crs& crs) {
  if (same_crs(info.crs, crs)) return std::pair{std::abs(info.transform[1]), std::abs(info.transform[5])};
  auto natural = natural_grid(info, crs);
  if (!natural) return natural.error();
  return std::pair{natural->resolution, natural->resolution};
}

}  // namespace

Result<TargetGrid> bbox_grid(const RasterInfo& info, const BBoxRequest& request) {
  const Crs dst = request.dst_crs.value_or(request.bbox_crs);
  if (!(request.bbox.width() > 0) || !(request.bbox.height() > 0)) {
    return Error::bad_request("bbox must have minx < maxx and miny < maxy");
  }
  auto bounds = transform_bounds(request.bbox, request.bbox_crs, dst);
  if (!bounds) return bounds.error();
  auto res = natural_resolution(info, dst);
  if (!res) return res.error();
  const int natural_w = std::max(1, static_cast<int>(std::round(bounds->width() / res->first)));
  const int natural_h = std::max(1, static_cast<int>(std::round(bounds->height() / res->second)));
  auto size = output_size(request.size, natural_h, natural_w);
  if (!size) return size.error();
  return TargetGrid{dst, *bounds, size->second, size->first};
}

Result<TargetGrid> preview_grid(const RasterInfo& info, SizeRequest size, const std::optional<Crs>& dst_crs) {
  if (!size.width && !size.height && !size.max_size) size.max_size = 1024;
  if (dst_crs && !same_crs(*dst_crs, info.crs)) {
    auto natural = natural_grid(info, *dst_crs);
    if (!natural) return natural.error();
    auto out = output_size(size, std::max(1, natural->height), std::max(1, natural->width));
    if (!out) return out.error();
    return TargetGrid{*dst_crs, natural->bounds, out->second, out->first};
  }
  auto out = output_size(size, info.height, info.width);
  if (!out) return out.error();
  return TargetGrid{info.crs, raster_bounds(info), out->second, out->first};
}

Result<PointValues> point(RasterSource& source, double x, double y, const Crs& coord_crs, const ReadOptions& options) {
  const RasterInfo& info = source.info();
  auto bands = resolve_bands(info, options.bands);
  if (!bands) return bands.error();
  auto transformer = Transformer::get(coord_crs, info.crs);
  if (!transformer) return transformer.error();
  (*transformer)->transform(&x, &y, 1);
  const Bounds footprint = raster_bounds(info);
  if (std::isfinite(x) && is_geographic(info.crs)) {
    x += 360.0 * std::round(((footprint.left + footprint.right) / 2 - x) / 360.0);
  }
  // rio-tiler's test is strict: a point on the raster's edge is outside.
  if (!(x > footprint.left && x < footprint.right && y > footprint.bottom && y < footprint.top)) {
    return Error::not_found("Point is outside dataset bounds");
  }
  const GeoTransform& t = info.transform;
  const double det = t[1] * t[5] - t[2] * t[4];
  const double dx = x - t[0], dy = y - t[3];
  const int col = static_cast<int>(std::floor((t[5] * dx - t[2] * dy) / det));
  const int row = static_cast<int>(std::floor((-t[4] * dx + t[1] * dy) / det));
  auto image = read_window(source, 0, Window{col, row, 1, 1}, *bands, options);
  if (!image) return image.error();
  PointValues result{{}, col, row};
  for (const auto& band : image->bands) {
    result.values.push_back(image->valid[0] ? std::optional<double>(band[0]) : std::nullopt);
  }
  return result;
}

}  // namespace scigate::raster
