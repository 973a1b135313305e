// OGC Two-Dimensional Tile Matrix Sets (OGC 17-083r4), as morecantile defines and TiTiler
// serves them: WebMercatorQuad and WorldCRS84Quad. Tile → bounds, lon/lat → tile, zoom
// for a resolution, a raster's min/max zoom (as rio-tiler computes them), the grid a tile
// request renders onto, and the JSON documents of /tileMatrixSets.
//
// Thread-safe: the sets are immutable and built once.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "raster/projection.h"
#include "raster/raster_types.h"

namespace scigate::raster {

struct TileMatrix {
  int zoom = 0;  // the matrix id
  double scale_denominator = 0;
  double cell_size = 0;  // CRS units per pixel
  double origin_x = 0;   // top-left corner, in CRS x/y order
  double origin_y = 0;
  int tile_width = 256;
  int tile_height = 256;
  int64_t matrix_width = 0;
  int64_t matrix_height = 0;
};

struct Tile {
  int64_t x = 0;
  int64_t y = 0;
  int z = 0;
};

// What a tile request renders onto: a CRS, bounds in it and a size in pixels.
struct TargetGrid {
  Crs crs;
  Bounds bounds;
  int width = 0;
  int height = 0;
};

class TileMatrixSet {
 public:
  std::string id;
  std::string title;
  std::string uri;
  std::string crs_uri;  // as the JSON document names it
  std::string well_known_scale_set;
  std::vector<std::string> ordered_axes;
  Crs crs;             // for PROJ, in x/y order
  Crs geographic_crs;  // the CRS of lon/lat inputs and of TileJSON bounds
  std::vector<TileMatrix> matrices;

  int minzoom() const { return matrices.front().zoom; }
  int maxzoom() const { return matrices.back().zoom; }
  // nullptr outside [minzoom, maxzoom].
  const TileMatrix* matrix(int zoom) const;
  // Whether z/x/y exists in the matrix set.
  bool valid(const Tile& tile) const;
  // The tile's bounds in the TMS CRS (call only for valid tiles).
  Bounds xy_bounds(const Tile& tile) const;
  // The tile's bounds in the geographic CRS.
  Result<Bounds> bounds(const Tile& tile) const;
  // The tile holding lon/lat at `zoom` (clamped to the matrix, as morecantile).
  Result<Tile> tile_at(double lon, double lat, int zoom) const;
  // morecantile's zoom_for_res with the "auto" strategy: the zoom whose cell size is
  // closest to `resolution` (in CRS units), within [minzoom, maxzoom].
  int zoom_for_resolution(double resolution) const;
  // The OGC JSON document, as /tileMatrixSets/{id} serves it.
  boost::json::object to_json() const;
};

// The supported sets, in the order /tileMatrixSets lists them.
const std::vector<TileMatrixSet>& tile_matrix_sets();
// nullptr for an unknown id.
const TileMatrixSet* find_tile_matrix_set(std::string_view id);
// The /tileMatrixSets document; `base_url` is the absolute URL of /tileMatrixSets.
boost::json::object tile_matrix_set_list_json(std::string_view base_url);

// The grid of a tile request: the tile's bounds at `tilesize` pixels (0 = the matrix's
// tile size), grown by `buffer` pixels on each side as rio-tiler does (tilesize + 2 *
// buffer pixels; buffer must be a multiple of 0.5). Failure: kNotFound for a tile outside
// the matrix set, kBadRequest for a bad tilesize or buffer.
Result<TargetGrid> tile_grid(const TileMatrixSet& tms, const Tile& tile, int tilesize = 0, double buffer = 0);

// Whether a tile intersects the raster's footprint (rio-tiler's tile_exists): TiTiler
// answers 404 for tiles that do not.
Result<bool> tile_intersects(const TileMatrixSet& tms, const Tile& tile, const RasterInfo& info);

// A raster's zoom range in a TMS as rio-tiler computes it: maxzoom is the zoom of its
// natural resolution in the TMS CRS, minzoom that of its coarsest theoretical overview
// (halving until the smaller side fits one tile).
struct ZoomRange {
  int minzoom = 0;
  int maxzoom = 0;
};
ZoomRange zoom_range(const RasterInfo& info, const TileMatrixSet& tms);

}  // namespace scigate::raster
