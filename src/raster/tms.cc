#include "raster/tms.h"

#include <cmath>

namespace scigate::raster {
namespace {

// OGC 17-083r4 defines scale denominators for a standardized rendering pixel of 0.28 mm.
constexpr double kStandardPixelMetres = 0.00028;
constexpr double kEarthRadius = 6378137.0;  // WGS 84 semi-major axis
constexpr double kPi = 3.14159265358979323846;
constexpr double kEquatorMetres = 2 * kPi * kEarthRadius;

// The sets are defined by their formulas (OGC 17-083r4, annex D), not copied tables:
// each level halves the cell size of the one above.
TileMatrixSet web_mercator_quad() {
  TileMatrixSet tms;
  tms.id = "WebMercatorQuad";
  tms.title = "Google Maps Compatible for the World";
  tms.uri = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
  tms.crs_uri = "http://www.opengis.net/def/crs/EPSG/0/3857";
  tms.well_known_scale_set = "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible";
  tms.ordered_axes = {"X", "Y"};
  tms.crs = Crs{3857, "EPSG:3857"};
  tms.geographic_crs = Crs{4326, "EPSG:4326"};
  const double half = kEquatorMetres / 2;
  for (int z = 0; z <= 24; ++z) {
    const double cell = kEquatorMetres / 256 / std::ldexp(1.0, z);
    const int64_t n = int64_t{1} << z;
    tms.matrices.push_back({z, cell / kStandardPixelMetres, cell, -half, half, 256, 256, n, n});
  }
  return tms;
}

TileMatrixSet world_crs84_quad() {
  TileMatrixSet tms;
  tms.id = "WorldCRS84Quad";
  tms.title = "CRS84 for the World";
  tms.uri = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad";
  tms.crs_uri = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
  tms.well_known_scale_set = "http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad";
  tms.ordered_axes = {"Lon", "Lat"};
  tms.crs = Crs{0, "OGC:CRS84"};
  tms.geographic_crs = Crs{0, "OGC:CRS84"};
  const double metres_per_degree = kEquatorMetres / 360;
  for (int z = 0; z <= 23; ++z) {
    const double cell = 0.703125 / std::ldexp(1.0, z);
    const int64_t n = int64_t{1} << z;
    tms.matrices.push_back({z, cell * metres_per_degree / kStandardPixelMetres, cell, -180, 90, 256, 256, 2 * n, n});
  }
  return tms;
}

}  // namespace

const TileMatrix* TileMatrixSet::matrix(int zoom) const {
  if (zoom < minzoom() || zoom > maxzoom()) return nullptr;
  return &matrices[zoom - minzoom()];
}

bool TileMatrixSet::valid(const Tile& tile) const {
  const TileMatrix* m = matrix(tile.z);
  return m != nullptr && tile.x >= 0 && tile.y >= 0 && tile.x < m->matrix_width && tile.y < m->matrix_height;
}

Bounds TileMatrixSet::xy_bounds(const Tile& tile) const {
  const TileMatrix& m = *matrix(tile.z);
  const double tile_w = m.cell_size * m.tile_width, tile_h = m.cell_size * m.tile_height;
  return {m.origin_x + tile.x * tile_w, m.origin_y - (tile.y + 1) * tile_h, m.origin_x + (tile.x + 1) * tile_w,
          m.origin_y - tile.y * tile_h};
}

Result<Bounds> TileMatrixSet::bounds(const Tile& tile) const {
  if (!valid(tile)) return Error::not_found("tile outside the tile matrix set");
  const Bounds xy = xy_bounds(tile);
  // Corners only, as morecantile's ul/lr: a quad tile's edges stay straight in lon/lat.
  double xs[2] = {xy.left, xy.right}, ys[2] = {xy.top, xy.bottom};
  auto t = Transformer::get(crs, geographic_crs);
  if (!t) return t.error();
  (*t)->transform(xs, ys, 2);
  return Bounds{xs[0], ys[1], xs[1], ys[0]};
}

Result<Tile> TileMatrixSet::tile_at(double lon, double lat, int zoom) const {
  const TileMatrix* m = matrix(zoom);
  if (m == nullptr) return Error::not_found("zoom outside the tile matrix set");
  auto t = Transformer::get(geographic_crs, crs);
  if (!t) return t.error();
  double x = lon, y = lat;
  (*t)->transform(&x, &y, 1);
  const auto clamp = [](double v, int64_t n) {
    if (!std::isfinite(v)) return int64_t{0};
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor(v)), 0, n - 1);
  };
  return Tile{clamp((x - m->origin_x) / (m->cell_size * m->tile_width), m->matrix_width),
              clamp((m->origin_y - y) / (m->cell_size * m->tile_height), m->matrix_height), zoom};
}

int TileMatrixSet::zoom_for_resolution(double resolution) const {
  const auto close = [](double res, double cell) { return std::abs(res - cell) / cell <= 1e-8; };
  int zoom = minzoom();
  for (; zoom <= maxzoom(); ++zoom) {
    const double cell = matrix(zoom)->cell_size;
    if (resolution > cell || close(resolution, cell)) break;
  }
  zoom = std::min(zoom, maxzoom());
  const double cell = matrix(zoom)->cell_size;
  if (zoom > 0 && !close(resolution, cell)) {
    // "auto": step back one zoom when the coarser level is the closer one (by ratio).
    const int coarser = std::max(zoom - 1, minzoom());
    if (matrix(coarser)->cell_size / resolution < resolution / cell) zoom = coarser;
  }
  return zoom;
}

boost::json::object TileMatrixSet::to_json() const {
  boost::json::array tile_matrices;
  for (const TileMatrix& m : matrices) {
    tile_matrices.push_back(boost::json::object{
        {"id", std::to_string(m.zoom)},
        {"scaleDenominator", m.scale_denominator},
        {"cellSize", m.cell_size},
        {"cornerOfOrigin", "topLeft"},
        {"pointOfOrigin", boost::json::array{m.origin_x, m.origin_y}},
        {"tileWidth", m.tile_width},
        {"tileHeight", m.tile_height},
        {"matrixWidth", m.matrix_width},
        {"matrixHeight", m.matrix_height},
    });
  }
  boost::json::array axes;
  for (const auto& a : ordered_axes) axes.push_back(boost::json::string(a));
  return boost::json::object{
      {"title", title},
      {"id", id},
      {"uri", uri},
      {"orderedAxes", axes},
      {"crs", crs_uri},
      {"wellKnownScaleSet", well_known_scale_set},
      {"tileMatrices", tile_matrices},
  };
}

const std::vector<TileMatrixSet>& tile_matrix_sets() {
  static const std::vector<TileMatrixSet> sets{web_mercator_quad(), world_crs84_quad()};
  return sets;
}

const TileMatrixSet* find_tile_matrix_set(std::string_view id) {
  for (const auto& tms : tile_matrix_sets()) {
    if (tms.id == id) return &tms;
  }
  return nullptr;
}

boost::json::object tile_matrix_set_list_json(std::string_view base_url) {
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  boost::json::array list;
  for (const auto& tms : tile_matrix_sets()) {
    boost::json::object link{
        {"href", base + "/" + tms.id},
        {"rel", "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"},
        {"type", "application/json"},
        {"title", "Definition of " + tms.id + " tileMatrixSet"},
    };
    list.push_back(boost::json::object{{"id", tms.id}, {"links", boost::json::array{link}}});
  }
  return boost::json::object{{"tileMatrixSets", list}};
}

Result<TargetGrid> tile_grid(const TileMatrixSet& tms, const Tile& tile, int tilesize, double buffer) {
  if (!tms.valid(tile)) return Error::not_found("tile outside the tile matrix set");
  if (tilesize < 0) return Error::bad_request("tilesize must be positive");
  if (buffer < 0 || std::fmod(buffer, 0.5) != 0) {
    return Error::bad_request("`buffer` must be a multiple of `0.5` (e.g: 0.5, 1, 1.5, ...).");
  }
  const TileMatrix& m = *tms.matrix(tile.z);
  const int width = tilesize > 0 ? tilesize : m.tile_width;
  const int height = tilesize > 0 ? tilesize : m.tile_height;
  Bounds b = tms.xy_bounds(tile);
  // rio-tiler's _apply_buffer: grow by `buffer` output pixels, size by int(2 * buffer).
  const double rx = b.width() / width, ry = b.height() / height;
  b = {b.left - rx * buffer, b.bottom - ry * buffer, b.right + rx * buffer, b.top + ry * buffer};
  const int grow = static_cast<int>(buffer * 2);
  return TargetGrid{tms.crs, b, width + grow, height + grow};
}

Result<bool> tile_intersects(const TileMatrixSet& tms, const Tile& tile, const RasterInfo& info) {
  if (!tms.valid(tile)) return false;
  auto in_raster_crs = transform_bounds(tms.xy_bounds(tile), tms.crs, info.crs);
  // As rio-tiler: a tile that cannot be expressed in the raster's CRS may still hold data.
  if (!in_raster_crs) return true;
  const Bounds t = *in_raster_crs;
  const Bounds r = raster_bounds(info);
  const auto overlaps = [&](double shift) {
    return t.left + shift < r.right && t.right + shift > r.left && t.top > r.bottom && t.bottom < r.top;
  };
  // A geographic raster may extend past ±180° (the warp wraps longitudes onto it too).
  if (is_geographic(info.crs)) return overlaps(0) || overlaps(360) || overlaps(-360);
  return overlaps(0);
}

ZoomRange zoom_range(const RasterInfo& info, const TileMatrixSet& tms) {
  auto grid = natural_grid(info, tms.crs);
  // As rio-tiler: a raster whose resolution cannot be derived spans the whole set.
  if (!grid) return {tms.minzoom(), tms.maxzoom()};
  const int tilesize = tms.matrices.front().tile_width;
  // rasterio's get_maximum_overview_level: halve until the smaller side fits a tile.
  int level = 0;
  for (int64_t factor = 1; std::min(grid->width / factor, grid->height / factor) > tilesize; factor *= 2) ++level;
  return {tms.zoom_for_resolution(grid->resolution * std::ldexp(1.0, level)),
          tms.zoom_for_resolution(grid->resolution)};
}

}  // namespace scigate::raster
