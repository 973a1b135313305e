#include "raster/resampling.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace scigate::raster {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Named {
  const char* name;
  Resampling method;
};
constexpr Named kNames[] = {
    {"nearest", Resampling::kNearest}, {"bilinear", Resampling::kBilinear},
    {"cubic", Resampling::kCubic},     {"cubic_spline", Resampling::kCubicSpline},
    {"lanczos", Resampling::kLanczos}, {"gauss", Resampling::kGauss},
    {"average", Resampling::kAverage}, {"mode", Resampling::kMode},
    {"min", Resampling::kMin},         {"max", Resampling::kMax},
    {"med", Resampling::kMed},         {"q1", Resampling::kQ1},
    {"q3", Resampling::kQ3},           {"sum", Resampling::kSum},
    {"rms", Resampling::kRms},
};

// The filters of GDAL's warp kernel, as functions of the distance in source pixels.
double filter(Resampling method, double x) {
  const double a = std::abs(x);
  switch (method) {
    case Resampling::kBilinear:
      return a < 1 ? 1 - a : 0;
    case Resampling::kCubic:  // Keys' cubic convolution, a = -0.5
      if (a <= 1) return (1.5 * a - 2.5) * a * a + 1;
      if (a < 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
      return 0;
    case Resampling::kCubicSpline:
    case Resampling::kGauss:  // cubic B-spline
      if (a < 1) return (3 * a * a * a - 6 * a * a + 4) / 6;
      if (a < 2) return (2 - a) * (2 - a) * (2 - a) / 6;
      return 0;
    case Resampling::kLanczos:  // Lanczos-3 windowed sinc
      if (a == 0) return 1;
      if (a >= 3) return 0;
      return 3 * std::sin(kPi * a) * std::sin(kPi * a / 3) / (kPi * kPi * a * a);
    default:
      return 0;
  }
}

size_t band_count(const SourceView& view) { return view.image->bands.size(); }

bool sample_nearest(const SourceView& view, double sx, double sy, double* out) {
  const int col = static_cast<int>(std::floor(sx)), row = static_cast<int>(std::floor(sy));
  if (!view.usable(col, row)) return false;
  for (size_t b = 0; b < band_count(view); ++b) out[b] = view.value(b, col, row);
  return true;
}

// GDAL's 4-sample bilinear: the pixel centres around the point, missing ones dropped.
bool sample_bilinear4(const SourceView& view, double sx, double sy, double* out) {
  int ix = static_cast<int>(std::floor(sx - 0.5)), iy = static_cast<int>(std::floor(sy - 0.5));
  double rx = 1.5 - (sx - ix), ry = 1.5 - (sy - iy);  // weight of the left / upper pixels
  if (ix == -1) ix = 0, rx = 1;                       // half a pixel from the edge: edge value
  if (iy == -1) iy = 0, ry = 1;
  const int cols[4] = {ix, ix + 1, ix, ix + 1}, rows[4] = {iy, iy, iy + 1, iy + 1};
  const double weights[4] = {rx * ry, (1 - rx) * ry, rx * (1 - ry), (1 - rx) * (1 - ry)};
  double divisor = 0;
  const size_t bands = band_count(view);
  std::fill(out, out + bands, 0.0);
  for (int k = 0; k < 4; ++k) {
    if (!view.usable(cols[k], rows[k])) continue;
    divisor += weights[k];
    for (size_t b = 0; b < bands; ++b) out[b] += weights[k] * view.value(b, cols[k], rows[k]);
  }
  if (divisor < 0.00001) return false;
  if (divisor != 1.0) {
    for (size_t b = 0; b < bands; ++b) out[b] /= divisor;
  }
  return true;
}

// GDAL's 4x4 cubic convolution, falling back to bilinear near edges and invalid pixels.
bool sample_cubic16(const SourceView& view, double sx, double sy, double* out) {
  const int ix = static_cast<int>(sx - 0.5), iy = static_cast<int>(sy - 0.5);
  if (sx < 0.5 || sy < 0.5 || ix - 1 < 0 || iy - 1 < 0 || ix + 2 >= view.level_width || iy + 2 >= view.level_height) {
    return sample_bilinear4(view, sx, sy, out);
  }
  for (int r = iy - 1; r <= iy + 2; ++r) {
    for (int c = ix - 1; c <= ix + 2; ++c) {
      if (!view.usable(c, r)) return sample_bilinear4(view, sx, sy, out);
    }
  }
  double wx[4], wy[4];
  for (int k = 0; k < 4; ++k) {
    wx[k] = filter(Resampling::kCubic, (k - 1) - (sx - 0.5 - ix));
    wy[k] = filter(Resampling::kCubic, (k - 1) - (sy - 0.5 - iy));
  }
  for (size_t b = 0; b < band_count(view); ++b) {
    double sum = 0;
    for (int r = 0; r < 4; ++r) {
      double row_sum = 0;
      for (int c = 0; c < 4; ++c) row_sum += wx[c] * view.value(b, ix - 1 + c, iy - 1 + r);
      sum += wy[r] * row_sum;
    }
    out[b] = sum;
  }
  return true;
}

// GDAL's general kernel (GWKResample): separable weights over a window widened by
// 1/scale when downsampling, renormalised over the valid pixels.
bool sample_general(const SourceView& view, Resampling method, double sx, double sy, double scale_x, double scale_y,
                    double* out) {
  const int radius = kernel_radius(method);
  const int ix = static_cast<int>(std::floor(sx - 0.5)), iy = static_cast<int>(std::floor(sy - 0.5));
  const double dx = sx - 0.5 - ix, dy = sy - 0.5 - iy;
  const int rx = scale_x < 1 ? static_cast<int>(std::ceil(radius / scale_x)) : radius;
  const int ry = scale_y < 1 ? static_cast<int>(std::ceil(radius / scale_y)) : radius;
  // Even radii start one pixel later, as GDAL's nFiltInitX.
  const int first_x = ((radius + 1) % 2) - rx, first_y = ((radius + 1) % 2) - ry;
  const double kx = std::min(scale_x, 1.0), ky = std::min(scale_y, 1.0);
  const size_t bands = band_count(view);
  std::fill(out, out + bands, 0.0);
  double total = 0;
  for (int j = std::max(first_y, -iy); j <= ry && iy + j < view.level_height; ++j) {
    const double wy = filter(method, (j - dy) * ky);
    if (wy == 0) continue;
    for (int i = std::max(first_x, -ix); i <= rx && ix + i < view.level_width; ++i) {
      if (!view.usable(ix + i, iy + j)) continue;
      const double w = wy * filter(method, (i - dx) * kx);
      total += w;
      for (size_t b = 0; b < bands; ++b) out[b] += w * view.value(b, ix + i, iy + j);
    }
  }
  if (total < 0.000001) return false;
  if (total < 0.99999 || total > 1.00001) {
    for (size_t b = 0; b < bands; ++b) out[b] /= total;
  }
  return true;
}

// The value at quantile q of sorted values (nearest rank, lower on ties).
double quantile(std::vector<double>& values, double q) {
  std::sort(values.begin(), values.end());
  const size_t idx = static_cast<size_t>(q * static_cast<double>(values.size() - 1));
  return values[idx];
}

double most_frequent(const std::vector<double>& values, const std::vector<double>& weights) {
  std::map<double, double> counts;
  double best = values.front(), best_weight = -1;
  for (size_t i = 0; i < values.size(); ++i) {
    const double w = counts[values[i]] += weights[i];
    // Ties keep the value met first, as GDAL's mode does.
    if (w > best_weight) best = values[i], best_weight = w;
  }
  return best;
}

struct Footprint {
  int col0, col1, row0, row1;  // pixel range, exclusive ends
};

// GDAL's footprint rounding: at least one pixel, tolerant to tiny overshoots.
Footprint footprint(const SourceView& view, double x0, double y0, double x1, double y1) {
  Footprint f{std::max(static_cast<int>(std::floor(x0 + 1e-10)), 0),
              std::min(static_cast<int>(std::ceil(x1 - 1e-10)), view.level_width),
              std::max(static_cast<int>(std::floor(y0 + 1e-10)), 0),
              std::min(static_cast<int>(std::ceil(y1 - 1e-10)), view.level_height)};
  if (f.col0 == f.col1 && f.col1 < view.level_width) ++f.col1;
  if (f.row0 == f.row1 && f.row1 < view.level_height) ++f.row1;
  return f;
}

// Overlap of pixel [p, p+1) with [lo, hi): the partial weight of edge pixels.
double overlap(int p, double lo, double hi) {
  const double w = std::min(hi, p + 1.0) - std::max(lo, static_cast<double>(p));
  return w > 0 ? w : 0;
}

}  // namespace

std::optional<Resampling> parse_resampling(std::string_view name) {
  for (const auto& n : kNames) {
    if (name == n.name) return n.method;
  }
  return std::nullopt;
}

const char* resampling_name(Resampling method) {
  for (const auto& n : kNames) {
    if (n.method == method) return n.name;
  }
  return "nearest";
}

bool is_point_kernel(Resampling method) {
  switch (method) {
    case Resampling::kNearest:
    case Resampling::kBilinear:
    case Resampling::kCubic:
    case Resampling::kCubicSpline:
    case Resampling::kLanczos:
    case Resampling::kGauss:
      return true;
    default:
      return false;
  }
}

int kernel_radius(Resampling method) {
  switch (method) {
    case Resampling::kNearest:
    case Resampling::kBilinear:
      return 1;
    case Resampling::kCubic:
    case Resampling::kCubicSpline:
    case Resampling::kGauss:
      return 2;
    case Resampling::kLanczos:
      return 3;
    default:
      return 0;
  }
}

bool sample_point(const SourceView& view, Resampling method, double sx, double sy, double scale_x, double scale_y,
                  double* out) {
  // As GDAL: an output pixel whose centre falls outside the source is never written.
  if (!(sx >= 0 && sy >= 0 && sx < view.level_width && sy < view.level_height)) return false;
  // GDAL skips an output pixel whose centre falls on an invalid source pixel (its unified
  // validity mask), whatever the kernel; the kernel then drops the other invalid pixels.
  if (!view.usable(static_cast<int>(sx), static_cast<int>(sy))) return false;
  // GDAL keeps the 4-sample formulas unless downsampling by more than 5%.
  const bool four_samples = scale_x >= 0.95 && scale_y >= 0.95;
  switch (method) {
    case Resampling::kNearest:
      return sample_nearest(view, sx, sy, out);
    case Resampling::kBilinear:
      if (four_samples) return sample_bilinear4(view, sx, sy, out);
      return sample_general(view, method, sx, sy, scale_x, scale_y, out);
    case Resampling::kCubic:
      if (four_samples) return sample_cubic16(view, sx, sy, out);
      return sample_general(view, method, sx, sy, scale_x, scale_y, out);
    default:
      return sample_general(view, method, sx, sy, scale_x, scale_y, out);
  }
}

bool sample_area(const SourceView& view, Resampling method, double x0, double y0, double x1, double y1,
                 std::vector<double>& scratch, double* out) {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  const Footprint f = footprint(view, x0, y0, x1, y1);
  const size_t bands = band_count(view);
  for (size_t b = 0; b < bands; ++b) {
    // Kept between calls: area kernels run once per output pixel and band.
    thread_local std::vector<double> weights;
    scratch.clear();
    weights.clear();
    double sum = 0, squares = 0, total = 0;
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int r = f.row0; r < f.row1; ++r) {
      const double wy = std::max(overlap(r, y0, y1), f.row1 - f.row0 == 1 ? 1.0 : 0.0);
      for (int c = f.col0; c < f.col1; ++c) {
        if (!view.usable(c, r)) continue;
        const double w = wy * std::max(overlap(c, x0, x1), f.col1 - f.col0 == 1 ? 1.0 : 0.0);
        if (w <= 0) continue;
        const double v = view.value(b, c, r);
        sum += w * v, squares += w * v * v, total += w;
        lo = std::min(lo, v), hi = std::max(hi, v);
        scratch.push_back(v);
        weights.push_back(w);
      }
    }
    if (total <= 0) return false;
    switch (method) {
      case Resampling::kAverage:
        out[b] = sum / total;
        break;
      case Resampling::kSum:
        out[b] = sum;
        break;
      case Resampling::kRms:
        out[b] = std::sqrt(squares / total);
        break;
      case Resampling::kMin:
        out[b] = lo;
        break;
      case Resampling::kMax:
        out[b] = hi;
        break;
      case Resampling::kMed:
        out[b] = quantile(scratch, 0.5);
        break;
      case Resampling::kQ1:
        out[b] = quantile(scratch, 0.25);
        break;
      case Resampling::kQ3:
        out[b] = quantile(scratch, 0.75);
        break;
      default:
        out[b] = most_frequent(scratch, weights);
        break;
    }
  }
  return true;
}

}  // namespace scigate::raster
