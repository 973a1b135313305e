#include "raster/projection.h"

#include <proj.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace scigate::raster {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Per-thread caches stay small: a server sees a handful of CRS pairs, a test a few more.
constexpr size_t kMaxCachedTransformers = 64;

// One PROJ context per thread: PROJ contexts and the objects made in them must not be
// shared between threads.
class ThreadProj {
 public:
  ThreadProj() : ctx_(proj_context_create()) { proj_log_level(ctx_, PJ_LOG_NONE); }
  ~ThreadProj() {
    transformers_.clear();
    for (auto& [key, crs] : crss_) proj_destroy(crs);
    proj_context_destroy(ctx_);
  }
  ThreadProj(const ThreadProj&) = delete;
  ThreadProj& operator=(const ThreadProj&) = delete;

  PJ_CONTEXT* ctx() const { return ctx_; }
  std::map<std::string, std::shared_ptr<Transformer>>& transformers() { return transformers_; }

  // The CRS object of a definition, or nullptr when PROJ does not understand it.
  PJ* crs(const std::string& definition) {
    auto it = crss_.find(definition);
    if (it != crss_.end()) return it->second;
    if (crss_.size() >= kMaxCachedTransformers) {
      for (auto& [key, crs] : crss_) proj_destroy(crs);
      crss_.clear();
    }
    PJ* crs = proj_create(ctx_, definition.c_str());
    crss_.emplace(definition, crs);
    return crs;
  }

  static ThreadProj& get() {
    thread_local ThreadProj instance;
    return instance;
  }

 private:
  PJ_CONTEXT* ctx_;
  std::map<std::string, PJ*> crss_;
  std::map<std::string, std::shared_ptr<Transformer>> transformers_;
};

class IdentityTransformer : public Transformer {
 public:
  bool is_identity() const override { return true; }
  void transform(double*, double*, size_t) const override {}
};

class ProjTransformer : public Transformer {
 public:
  explicit ProjTransformer(PJ* pj) : pj_(pj) {}
  ~ProjTransformer() override { proj_destroy(pj_); }
  bool is_identity() const override { return false; }
  void transform(double* x, double* y, size_t n) const override {
    proj_trans_generic(pj_, PJ_FWD, x, sizeof(double), n, y, sizeof(double), n, nullptr, 0, 0, nullptr, 0, 0);
    // PROJ marks failures with HUGE_VAL in both coordinates; NaN can appear too.
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(y[i])) x[i] = y[i] = kInf;
    }
  }

 private:
  PJ* pj_;
};

Result<PJ*> create_pipeline(ThreadProj& proj, const std::string& from, const std::string& to) {
  PJ* a = proj.crs(from);
  if (a == nullptr) return Error::bad_request("unknown CRS: " + from);
  PJ* b = proj.crs(to);
  if (b == nullptr) return Error::bad_request("unknown CRS: " + to);
  PJ* raw = proj_create_crs_to_crs_from_pj(proj.ctx(), a, b, nullptr, nullptr);
  if (raw == nullptr) return Error::bad_request("no transformation from " + from + " to " + to);
  PJ* normalized = proj_normalize_for_visualization(proj.ctx(), raw);
  proj_destroy(raw);
  if (normalized == nullptr) return Error::bad_request("no transformation from " + from + " to " + to);
  return normalized;
}

}  // namespace

std::string crs_string(const Crs& crs) {
  if (!crs.definition.empty()) return crs.definition;
  if (crs.epsg != 0) return "EPSG:" + std::to_string(crs.epsg);
  return "";
}

bool same_crs(const Crs& a, const Crs& b) {
  if (a.epsg != 0 && a.epsg == b.epsg) return true;
  return crs_string(a) == crs_string(b);
}

std::shared_ptr<Transformer> Transformer::identity() { return std::make_shared<IdentityTransformer>(); }

Result<std::shared_ptr<Transformer>> Transformer::get(const Crs& from, const Crs& to) {
  const std::string a = crs_string(from);
  const std::string b = crs_string(to);
  if (a.empty() || b.empty()) return Error::bad_request("raster has no CRS");
  if (same_crs(from, to)) return std::shared_ptr<Transformer>(std::make_shared<IdentityTransformer>());
  ThreadProj& proj = ThreadProj::get();
  const std::string key = a + "\n" + b;
  auto& cache = proj.transformers();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto pj = create_pipeline(proj, a, b);
  if (!pj) return pj.error();
  if (cache.size() >= kMaxCachedTransformers) cache.clear();
  auto transformer = std::shared_ptr<Transformer>(std::make_shared<ProjTransformer>(*pj));
  cache.emplace(key, transformer);
  return transformer;
}

bool is_geographic(const Crs& crs) {
  if (crs.epsg == 4326) return true;
  PJ* pj = ThreadProj::get().crs(crs_string(crs));
  if (pj == nullptr) return false;
  const PJ_TYPE type = proj_get_type(pj);
  return type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS;
}

std::string crs_uri_or_wkt(const Crs& crs) {
  if (crs.epsg != 0) return "http://www.opengis.net/def/crs/EPSG/0/" + std::to_string(crs.epsg);
  PJ* pj = ThreadProj::get().crs(crs_string(crs));
  if (pj == nullptr) return crs_string(crs);
  const char* auth = proj_get_id_auth_name(pj, 0);
  const char* code = proj_get_id_code(pj, 0);
  if (auth != nullptr && code != nullptr) {
    return std::string("http://www.opengis.net/def/crs/") + auth + "/0/" + code;
  }
  const char* wkt = proj_as_wkt(ThreadProj::get().ctx(), pj, PJ_WKT1_GDAL, nullptr);
  return wkt != nullptr ? std::string(wkt) : crs_string(crs);
}

namespace {

// Longitudes spanning more than half the world may be a box across the antimeridian:
// when moving the western ones by 360° makes the span smaller, the box is reported as
// rasterio's transform_bounds does, with left > right.
Bounds across_antimeridian(Bounds b, const std::vector<double>& lons) {
  if (b.right - b.left <= 180) return b;
  double lo = kInf, hi = -kInf;
  for (double x : lons) {
    if (!std::isfinite(x)) continue;
    const double shifted = x < 0 ? x + 360 : x;
    lo = std::min(lo, shifted), hi = std::max(hi, shifted);
  }
  if (hi - lo < b.right - b.left) b.left = lo, b.right = hi - 360;
  return b;
}

}  // namespace

Result<Bounds> transform_bounds(const Bounds& bounds, const Crs& from, const Crs& to, int densify) {
  auto transformer = Transformer::get(from, to);
  if (!transformer) return transformer.error();
  if ((*transformer)->is_identity()) return bounds;
  // Points along the four edges, corners included.
  const int steps = densify + 1;
  std::vector<double> xs, ys;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const double x = bounds.left + t * bounds.width();
    const double y = bounds.bottom + t * bounds.height();
    xs.insert(xs.end(), {x, x, bounds.left, bounds.right});
    ys.insert(ys.end(), {bounds.bottom, bounds.top, y, y});
  }
  (*transformer)->transform(xs.data(), ys.data(), xs.size());
  Bounds out{kInf, kInf, -kInf, -kInf};
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) continue;
    out.left = std::min(out.left, xs[i]);
    out.right = std::max(out.right, xs[i]);
    out.bottom = std::min(out.bottom, ys[i]);
    out.top = std::max(out.top, ys[i]);
  }
  if (!std::isfinite(out.left)) return Error::bad_request("bounds cannot be transformed to " + crs_string(to));
  return is_geographic(to) ? across_antimeridian(out, xs) : out;
}

Bounds raster_bounds(const RasterInfo& info) {
  const GeoTransform& t = info.transform;
  const double xs[4] = {t[0], t[0] + info.width * t[1], t[0] + info.height * t[2],
                        t[0] + info.width * t[1] + info.height * t[2]};
  const double ys[4] = {t[3], t[3] + info.width * t[4], t[3] + info.height * t[5],
                        t[3] + info.width * t[4] + info.height * t[5]};
  return {*std::min_element(xs, xs + 4), *std::min_element(ys, ys + 4), *std::max_element(xs, xs + 4),
          *std::max_element(ys, ys + 4)};
}

namespace {

// rio-tiler crops geographic rasters to ±85.06° before asking for their Web Mercator
// resolution (beyond, the projection diverges and the suggested size explodes).
constexpr double kMercatorMaxLatitude = 85.06;

// GDAL samples 21 points per edge in pixel space, in this interleaved order: the first
// point is the top-left corner and the last the bottom-right one.
void edge_samples(double width, double height, std::vector<double>& px, std::vector<double>& py) {
  constexpr int kSteps = 20;
  for (int i = 0; i <= kSteps; ++i) {
    const double r = static_cast<double>(i) / kSteps;
    px.insert(px.end(), {r * width, r * width, 0.0, width});
    py.insert(py.end(), {0.0, height, r * height, r * height});
  }
}

}  // namespace

Result<NaturalGrid> natural_grid(const RasterInfo& info, const Crs& to) {
  if (info.width <= 0 || info.height <= 0) return Error::bad_request("raster has no pixels");
  auto transformer = Transformer::get(info.crs, to);
  if (!transformer) return transformer.error();
  GeoTransform t = info.transform;
  double width = info.width, height = info.height;
  if ((*transformer)->is_identity()) {
    const double res = std::abs(t[1]);
    return NaturalGrid{raster_bounds(info), res, info.width, info.height};
  }
  if (is_geographic(info.crs) && t[2] == 0 && t[4] == 0 && t[1] > 0) {
    // Past ±180° PROJ wraps longitudes and the diagonal would span the world: measure the
    // part within [-180, 180] (the pixel size is the same on both sides).
    const Bounds b = raster_bounds(info);
    const double left = std::max(b.left, -180.0), right = std::min(b.right, 180.0);
    if (right - left >= t[1] && (left > b.left || right < b.right)) {
      t[0] = left;
      width = std::floor((right - left) / t[1]);
    }
  }
  if (to.epsg == 3857 && is_geographic(info.crs) && t[2] == 0 && t[4] == 0) {
    // Crop to the latitudes Web Mercator can show, keeping the pixel size.
    const Bounds b = raster_bounds(info);
    const double top = std::min(b.top, kMercatorMaxLatitude), bottom = std::max(b.bottom, -kMercatorMaxLatitude);
    if (top > bottom && (top < b.top || bottom > b.bottom)) {
      height = std::round((top - bottom) / std::abs(t[5]));
      t[3] = t[5] < 0 ? top : bottom;
    }
  }
  std::vector<double> xs, ys;
  edge_samples(width, height, xs, ys);
  for (size_t i = 0; i < xs.size(); ++i) {
    const double col = xs[i], row = ys[i];
    xs[i] = t[0] + col * t[1] + row * t[2];
    ys[i] = t[3] + col * t[4] + row * t[5];
  }
  (*transformer)->transform(xs.data(), ys.data(), xs.size());
  Bounds out{kInf, kInf, -kInf, -kInf};
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) continue;
    out = {std::min(out.left, xs[i]), std::min(out.bottom, ys[i]), std::max(out.right, xs[i]),
           std::max(out.top, ys[i])};
  }
  if (!std::isfinite(out.left)) return Error::bad_request("raster cannot be transformed to " + crs_string(to));
  double dx = 0, dy = 0;
  if (std::isfinite(xs.front()) && std::isfinite(xs.back())) {
    dx = xs.back() - xs.front();
    dy = ys.back() - ys.front();
  }
  if (dx == 0 || dy == 0) {  // as GDAL: a degenerate diagonal falls back to the extent's
    dx = out.width();
    dy = out.height();
  }
  const double res = std::hypot(dx, dy) / std::hypot(width, height);
  if (!(res > 0)) return Error::bad_request("raster has no extent in " + crs_string(to));
  return NaturalGrid{out, res, static_cast<int>(out.width() / res + 0.5), static_cast<int>(out.height() / res + 0.5)};
}

}  // namespace scigate::raster
