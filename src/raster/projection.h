// Coordinate transformations between CRSs (PROJ 9), and the geometry the tiler derives
// from them: bounds in another CRS, a raster's natural resolution in another CRS.
//
// Coordinates are always in "visualisation" order (x = easting or longitude, y = northing
// or latitude), whatever the CRS's official axis order: every transformer goes through
// proj_normalize_for_visualization.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "raster/raster_types.h"

namespace scigate::raster {

// An axis-aligned box in some CRS: minx, miny, maxx, maxy (left may exceed right only
// where a function says so).
struct Bounds {
  double left = 0;
  double bottom = 0;
  double right = 0;
  double top = 0;
  double width() const { return right - left; }
  double height() const { return top - bottom; }
};

// What PROJ accepts for `crs`: its definition, or "EPSG:<code>".
std::string crs_string(const Crs& crs);
bool same_crs(const Crs& a, const Crs& b);

// A transformation from one CRS to another. Not thread-safe (PROJ objects are not): use
// one per thread; `Transformer::get` hands out a per-thread cached instance.
class Transformer {
 public:
  virtual ~Transformer() = default;
  // Failure: kBadRequest naming the CRS that PROJ does not understand.
  static Result<std::shared_ptr<Transformer>> get(const Crs& from, const Crs& to);
  // The transformation that changes nothing (pixel space to itself, for deep zoom).
  static std::shared_ptr<Transformer> identity();

  virtual bool is_identity() const = 0;
  // Transforms n points in place. Points that cannot be transformed become +inf.
  virtual void transform(double* x, double* y, size_t n) const = 0;
};

// True for geographic (longitude/latitude) CRSs. Unknown CRSs are not geographic.
bool is_geographic(const Crs& crs);

// The URI of the CRS as OGC writes it ("http://www.opengis.net/def/crs/EPSG/0/4326"), or
// its WKT when it has no authority code (as rio-tiler's CRS_to_uri, then to_wkt).
std::string crs_uri_or_wkt(const Crs& crs);

// `bounds` of CRS `from` in CRS `to`, sampling `densify` extra points along each edge as
// rasterio's transform_bounds(densify_pts=21). Points that fail are skipped; failure when
// none succeeds.
Result<Bounds> transform_bounds(const Bounds& bounds, const Crs& from, const Crs& to, int densify = 21);

// The level-0 footprint of a raster in its own CRS (normalised: left < right, bottom < top).
Bounds raster_bounds(const RasterInfo& info);

// A raster's resolution and size once reprojected to `to`, as GDAL's
// GDALSuggestedWarpOutput (rasterio's calculate_default_transform) computes them: the
// diagonal of the transformed footprint over the diagonal in pixels.
struct NaturalGrid {
  Bounds bounds;
  double resolution = 0;
  int width = 0;
  int height = 0;
};
Result<NaturalGrid> natural_grid(const RasterInfo& info, const Crs& to);

}  // namespace scigate::raster
