// The JSON documents of the /cog endpoints that depend only on a RasterInfo (and a TMS or
// point values): /info, /info.geojson, /{tms}/tilejson.json and /point, in rio-tiler's
// and TiTiler's shapes.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "raster/projection.h"
#include "raster/raster_types.h"
#include "raster/tms.h"
#include "raster/warp.h"

namespace scigate::raster {

// rio-tiler's band names and descriptions: "b1".., and the file's description or "b1".
std::vector<std::string> band_names(const std::vector<int>& bands);
std::vector<std::string> band_descriptions(const RasterInfo& info, const std::vector<int>& bands);

// rio-tiler's Reader.info(): bounds (in the raster's CRS), crs (URI or WKT), band_metadata,
// band_descriptions, dtype, nodata_type, colorinterp, scales, offsets, and the extras
// driver, count, width, height, overviews, nodata_value. `nodata` is the caller's
// override (TiTiler's `nodata` parameter), if any.
boost::json::object info_json(const RasterInfo& info, std::optional<double> nodata = {});

// The raster's bounds in a geographic CRS (as rio-tiler's get_geographic_bounds):
// (-180, -90, 180, 90) when they cannot be computed.
Bounds geographic_bounds(const RasterInfo& info, const Crs& crs = Crs{4326, "EPSG:4326"});

// /info.geojson: a Feature with the geographic bbox, its polygon (a MultiPolygon split at
// the antimeridian when west > east) and the info as properties.
boost::json::object info_geojson(const RasterInfo& info, const Crs& crs = Crs{4326, "EPSG:4326"},
                                 std::optional<double> nodata = {});

// TileJSON 3.0.0 for one TMS: `tiles_url` is the absolute tile URL template
// (".../{z}/{x}/{y}...?..."); bounds and zooms from the raster unless overridden.
boost::json::object tilejson(const RasterInfo& info, const TileMatrixSet& tms, const std::string& tiles_url,
                             std::optional<int> minzoom = {}, std::optional<int> maxzoom = {});

// /point: {"coordinates", "values" (null where masked), "band_names", "band_descriptions"}.
boost::json::object point_json(double lon, double lat, const PointValues& values, const std::vector<std::string>& names,
                               const std::vector<std::string>& descriptions);

}  // namespace scigate::raster
