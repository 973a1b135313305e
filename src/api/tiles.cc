// The tiler's endpoints: TiTiler's /cog factory (same paths and query parameters) and
// /tileMatrixSets, wired over the raster component. Every /cog handler does the same
// four things: parse the options (a bad one is a 400 before any read), name and
// authorize the file (raster_access.h: a token, or a grant for that one file), open it
// through RasterReaders (the provider's store and rotating credentials, cached headers
// and blocks), then run the raster pipeline and encode.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <sstream>

#include "api/common.h"
#include "api/raster_access.h"
#include "api/viewer.h"
#include "core/key_path.h"
#include "raster/documents.h"
#include "raster/layer.h"
#include "raster/render.h"
#include "raster/statistics.h"

namespace json = boost::json;

namespace scigate::api {

namespace {

using raster::ImageFormat;

// ---- Query and path parsing (TiTiler's parameter names and defaults) -----------------

Result<double> parse_number(std::string_view text, const std::string& what) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return Error::bad_request(what + " must be a number");
  }
  return v;
}

Result<int> parse_int(std::string_view text, const std::string& what) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Error::bad_request(what + " must be an integer");
  }
  return v;
}

// FastAPI's booleans.
Result<bool> parse_bool(const Request& req, std::string_view name, bool fallback) {
  if (!req.has_query_param(name)) return fallback;
  std::string v = req.query_param(name);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return Error::bad_request(std::string(name) + " must be true or false");
}

Result<std::optional<int>> optional_int(const Request& req, std::string_view name, int min) {
  if (!req.has_query_param(name)) return std::optional<int>();
  auto v = parse_int(req.query_param(name), std::string(name));
  if (!v) return v.error();
  if (*v < min) return Error::bad_request(std::string(name) + " must be at least " + std::to_string(min));
  return std::optional<int>(*v);
}

// "EPSG:3857" (or any definition PROJ accepts, checked when it is used).
raster::Crs parse_crs(const std::string& text) {
  std::string_view t = text;
  if (t.size() > 5 && (t.substr(0, 5) == "EPSG:" || t.substr(0, 5) == "epsg:")) {
    int code = 0;
    auto [end, ec] = std::from_chars(t.data() + 5, t.data() + t.size(), code);
    if (ec == std::errc() && end == t.data() + t.size()) return {code, "EPSG:" + std::to_string(code)};
  }
  return {0, text};
}

std::optional<raster::Crs> optional_crs(const Request& req, std::string_view name) {
  if (!req.has_query_param(name)) return std::nullopt;
  return parse_crs(req.query_param(name));
}

// "a,b,c,d" (a path segment such as the point's "{lon},{lat}") into exactly `n` numbers.
Result<std::vector<double>> parse_numbers(std::string_view text, size_t n, const std::string& what) {
  std::vector<double> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    auto v = parse_number(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start),
                          what);
    if (!v) return v.error();
    out.push_back(*v);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.size() != n) return Error::bad_request(what + " must be " + std::to_string(n) + " numbers");
  return out;
}

// A last path segment "NAME[.FORMAT]": the name and the format, if any.
struct Suffixed {
  std::string name;
  std::optional<ImageFormat> format;
};
Result<Suffixed> split_format(const std::string& segment) {
  size_t dot = segment.rfind('.');
  if (dot == std::string::npos) return Suffixed{segment, std::nullopt};
  auto format = raster::parse_image_format(std::string_view(segment).substr(dot + 1));
  if (!format) return Error::bad_request("unsupported image format '" + segment.substr(dot + 1) + "'");
  return Suffixed{segment.substr(0, dot), format};
}

// "{width}x{height}" of /preview and /bbox.
Result<std::pair<int, int>> parse_size(const std::string& text) {
  size_t x = text.find('x');
  if (x == std::string::npos) return Error::bad_request("size must be {width}x{height}");
  auto w = parse_int(std::string_view(text).substr(0, x), "width");
  auto h = parse_int(std::string_view(text).substr(x + 1), "height");
  if (!w) return w.error();
  if (!h) return h.error();
  if (*w < 1 || *h < 1) return Error::bad_request("width and height must be positive");
  return std::pair{*w, *h};
}

// The read side: bidx, expression, nodata, unscale, resampling, reproject.
Result<raster::LayerOptions> layer_options(const Request& req) {
  raster::LayerOptions o;
  for (const auto& value : req.query_params("bidx")) {
    // Repeated (bidx=1&bidx=2) as TiTiler, or comma-separated.
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      auto b =
          parse_int(std::string_view(value).substr(start, comma == std::string::npos ? comma : comma - start), "bidx");
      if (!b) return b.error();
      if (*b < 1) return Error::bad_request("bidx must be 1 or more");
      o.bidx.push_back(*b);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (req.has_query_param("expression")) o.expression = req.query_param("expression");
  if (req.has_query_param("nodata")) {
    std::string v = req.query_param("nodata");
    if (v == "nan" || v == "NaN" || v == "NAN") {
      o.read.nodata = std::nan("");
    } else {
      auto n = parse_number(v, "nodata");
      if (!n) return n.error();
      o.read.nodata = *n;
    }
  }
  auto unscale = parse_bool(req, "unscale", false);
  if (!unscale) return unscale.error();
  o.unscale = *unscale;
  for (auto [name, field] : {std::pair{"resampling", &raster::ReadOptions::resampling},
                             std::pair{"reproject", &raster::ReadOptions::reproject}}) {
    if (!req.has_query_param(name)) continue;
    auto method = raster::parse_resampling(req.query_param(name));
    if (!method) return Error::bad_request(std::string("unknown ") + name + " method '" + req.query_param(name) + "'");
    o.read.*field = *method;
  }
  return o;
}

// The render side: rescale, colormap_name / colormap, return_mask; the format comes from
// the path (or, where TiTiler has one, a `format` parameter).
Result<raster::RenderOptions> render_options(const ApiDeps& d, const Request& req, std::optional<ImageFormat> format) {
  raster::RenderOptions o;
  o.format = format;
  o.png_level = d.config.raster.png_level;
  auto rescale = raster::parse_rescale(req.query_params("rescale"));
  if (!rescale) return rescale.error();
  o.rescale = std::move(*rescale);
  // TiTiler: a named map wins over a JSON one.
  if (req.has_query_param("colormap_name")) {
    auto cmap = raster::named_colormap(req.query_param("colormap_name"));
    if (!cmap) return cmap.error();
    o.colormap = std::move(*cmap);
  } else if (req.has_query_param("colormap")) {
    auto cmap = raster::parse_colormap(req.query_param("colormap"));
    if (!cmap) return cmap.error();
    o.colormap = std::move(*cmap);
  }
  auto mask = parse_bool(req, "return_mask", true);
  if (!mask) return mask.error();
  o.add_mask = *mask;
  return o;
}

Status check_size(const ApiDeps& d, int64_t width, int64_t height) {
  if (width * height > d.config.raster.max_image_pixels) {
    return Error::bad_request("the image would be " + std::to_string(width) + "x" + std::to_string(height) +
                              " pixels, more than the " + std::to_string(d.config.raster.max_image_pixels) +
                              " this server renders at once (raster.max_image_pixels)");
  }
  return ok_status();
}

// ---- Responses -----------------------------------------------------------------------

std::string format_bounds(const raster::Bounds& b) {
  std::ostringstream out;
  out.precision(17);
  out << b.left << "," << b.bottom << "," << b.right << "," << b.top;
  return out.str();
}

// The image response of tiles, /preview and /bbox, with TiTiler's Content-Bbox and
// Content-Crs headers.
Response image_response(const raster::Rendered& rendered, const raster::TargetGrid& grid) {
  Response r;
  r.content_type = rendered.media_type;
  r.body = rendered.body;
  r.with_header("Content-Bbox", format_bounds(grid.bounds));
  r.with_header("Content-Crs", "<" + raster::crs_uri_or_wkt(grid.crs) + ">");
  // Tiles are read again when a file changes (its ETag), so browsers keep them briefly.
  r.with_header("Cache-Control", "private, max-age=300");
  return r;
}

// The read → render pipeline of every image endpoint.
Result<Response> render_image(const ApiDeps& d, raster::RasterSource& source, const raster::TargetGrid& grid,
                              const raster::LayerOptions& layer_opts, raster::RenderOptions render_opts) {
  if (auto s = check_size(d, grid.width, grid.height); !s) return s.error();
  auto layer = raster::read_layer(source, grid, layer_opts);
  if (!layer) return layer.error();
  render_opts.crs = grid.crs;
  render_opts.bounds = grid.bounds;
  // TiTiler colors a paletted file with its own palette unless the request names a map.
  if (!render_opts.colormap && !source.info().palette.empty() && layer->image.bands.size() == 1) {
    render_opts.colormap = raster::palette_colormap(source.info().palette);
  }
  auto rendered = raster::render(std::move(layer->image), render_opts);
  if (!rendered) return rendered.error();
  return image_response(*rendered, grid);
}

// max_size, width and height from the query, where the path did not already give them.
Status read_size(const Request& req, raster::SizeRequest& size) {
  for (auto [name, field] :
       {std::pair{"max_size", &raster::SizeRequest::max_size}, std::pair{"width", &raster::SizeRequest::width},
        std::pair{"height", &raster::SizeRequest::height}}) {
    if (size.*field) continue;  // the path's size wins
    auto v = optional_int(req, name, 1);
    if (!v) return v.error();
    size.*field = *v;
  }
  return ok_status();
}

// The last path segment "{width}x{height}.{format}" of /preview and /bbox.
Status read_sized_format(const std::string& segment, raster::SizeRequest& size, std::optional<ImageFormat>& format) {
  auto last = split_format(segment);
  if (!last) return last.error();
  auto wh = parse_size(last->name);
  if (!wh) return wh.error();
  size.width = wh->first;
  size.height = wh->second;
  format = last->format;
  return ok_status();
}

// The end of /preview and /bbox: the options, the file, the grid `make_grid` derives from
// the raster's info, and the image.
template <class MakeGrid>
Response render_area(const ApiDeps& d, const RequestContext& ctx, const Request& req, std::optional<ImageFormat> format,
                     MakeGrid make_grid) {
  auto layer_opts = layer_options(req);
  if (!layer_opts) return fail(ctx, layer_opts.error());
  auto render_opts = render_options(d, req, format);
  if (!render_opts) return fail(ctx, render_opts.error());
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  Result<raster::TargetGrid> grid = make_grid(file->reader->info());
  if (!grid) return fail(ctx, grid.error());
  auto response = render_image(d, *file->reader, *grid, *layer_opts, std::move(*render_opts));
  if (!response) return fail(ctx, response.error());
  return std::move(response).value();
}

// A query string (decoded pairs) encoded again for a URL we hand out.
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    out += out.empty() ? "" : "&";
    out += percent_encode(k, false) + "=" + percent_encode(v, false);
  }
  return out;
}

// The request's query for the URLs a tilejson.json or map.html hands out: without the
// keys TiTiler drops, with `extra` added, and with a grant: the anonymous caller's own,
// or a new one for an authenticated caller (so map libraries need no token).
std::vector<std::pair<std::string, std::string>> handed_out_query(const ApiDeps& d, const RequestContext& ctx,
                                                                  const Request& req, const OpenedRaster& file,
                                                                  std::initializer_list<std::string_view> drop) {
  std::vector<std::pair<std::string, std::string>> qs;
  for (const auto& [k, v] : req.query) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "grant" || std::find(drop.begin(), drop.end(), lower) != drop.end()) continue;
    qs.emplace_back(k, v);
  }
  // A url= names a bucket that several providers may hold: the grant is for this one.
  if (req.has_query_param("url") && !req.has_query_param("provider")) qs.emplace_back("provider", file.object.provider);
  std::string grant = file.grant;
  if (grant.empty()) {
    auto ttl = std::chrono::duration_cast<SystemTime::duration>(d.config.raster.grant_ttl);
    grant = make_grant(d.grant_signer, file.object, ctx.now + ttl);
  }
  qs.emplace_back("grant", grant);
  return qs;
}

const raster::TileMatrixSet* tms_param(const Request& req, Error& error) {
  const std::string& id = req.path_params.at("tms");
  const auto* tms = raster::find_tile_matrix_set(id);
  if (!tms) error = Error::not_found("unknown TileMatrixSet '" + id + "'");
  return tms;
}

}  // namespace

// ---- Handlers --------------------------------------------------------------------------

Response cog_info(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto layer_opts = layer_options(req);
  if (!layer_opts) return fail(ctx, layer_opts.error());
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  const auto& info = file->reader->info();
  if (req.path.ends_with(".geojson")) {
    std::optional<raster::Crs> crs = optional_crs(req, "crs");
    auto r = Response::json(
        200, raster::info_geojson(info, crs.value_or(raster::Crs{4326, "EPSG:4326"}), layer_opts->read.nodata));
    r.content_type = "application/geo+json";
    return r;
  }
  return Response::json(200, raster::info_json(info, layer_opts->read.nodata));
}

Response cog_statistics(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto layer_opts = layer_options(req);
  if (!layer_opts) return fail(ctx, layer_opts.error());
  raster::StatisticsOptions stats;
  if (req.has_query_param("p")) {
    stats.percentiles.clear();
    for (const auto& p : req.query_params("p")) {
      auto v = parse_int(p, "p");
      if (!v) return fail(ctx, v.error());
      if (*v < 0 || *v > 100) return fail(ctx, Error::bad_request("p must be between 0 and 100"));
      stats.percentiles.push_back(*v);
    }
  }
  if (req.has_query_param("histogram_bins")) {
    if (auto s = raster::parse_histogram_bins(req.query_param("histogram_bins"), stats); !s)
      return fail(ctx, s.error());
  }
  if (req.has_query_param("histogram_range")) {
    if (auto s = raster::parse_histogram_range(req.query_param("histogram_range"), stats); !s)
      return fail(ctx, s.error());
  }
  auto categorical = parse_bool(req, "categorical", false);
  if (!categorical) return fail(ctx, categorical.error());
  stats.categorical = *categorical;
  for (const auto& c : req.query_params("c")) {
    auto v = parse_number(c, "c");
    if (!v) return fail(ctx, v.error());
    stats.categories.push_back(*v);
  }
  raster::SizeRequest size;
  if (auto st = read_size(req, size); !st) return fail(ctx, st.error());
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  auto grid = raster::preview_grid(file->reader->info(), size, optional_crs(req, "dst_crs"));
  if (!grid) return fail(ctx, grid.error());
  if (auto s = check_size(d, grid->width, grid->height); !s) return fail(ctx, s.error());
  auto layer = raster::read_layer(*file->reader, *grid, *layer_opts);
  if (!layer) return fail(ctx, layer.error());
  return Response::json(200, raster::statistics_json(layer->image, layer->band_names, layer->band_descriptions, stats));
}

Response cog_point(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto lonlat = parse_numbers(req.path_params.at("lonlat"), 2, "the point {lon},{lat}");
  if (!lonlat) return fail(ctx, lonlat.error());
  auto layer_opts = layer_options(req);
  if (!layer_opts) return fail(ctx, layer_opts.error());
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  raster::Crs coord_crs = optional_crs(req, "coord_crs").value_or(raster::Crs{4326, "EPSG:4326"});
  auto point = raster::read_point(*file->reader, (*lonlat)[0], (*lonlat)[1], coord_crs, *layer_opts);
  if (!point) return fail(ctx, point.error());
  raster::PointValues values;
  values.values = point->values;
  return Response::json(
      200, raster::point_json((*lonlat)[0], (*lonlat)[1], values, point->band_names, point->band_descriptions));
}

Response cog_tile(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto started = std::chrono::steady_clock::now();
  Error error;
  const auto* tms = tms_param(req, error);
  if (!tms) return fail(ctx, error);
  // {y}, {y}.{format}, {y}@{scale}x or {y}@{scale}x.{format}
  auto last = split_format(req.path_params.at("y"));
  if (!last) return fail(ctx, last.error());
  std::string y_text = last->name;
  int scale = 1;
  if (size_t at = y_text.find('@'); at != std::string::npos) {
    std::string_view s = std::string_view(y_text).substr(at + 1);
    auto n = s.ends_with('x') ? parse_int(s.substr(0, s.size() - 1), "scale") : Result<int>(Error::bad_request(""));
    if (!n || *n < 1 || *n > 4) return fail(ctx, Error::bad_request("the tile suffix must be @1x to @4x"));
    scale = *n;
    y_text.resize(at);
  }
  auto z = parse_int(req.path_params.at("z"), "z");
  auto x = parse_int(req.path_params.at("x"), "x");
  auto y = parse_int(y_text, "y");
  if (!z) return fail(ctx, z.error());
  if (!x) return fail(ctx, x.error());
  if (!y) return fail(ctx, y.error());
  raster::Tile tile{*x, *y, *z};
  if (!tms->valid(tile))
    return fail(ctx, Error::not_found("tile " + tms->id + " " + std::to_string(*z) + "/" + std::to_string(*x) + "/" +
                                      std::to_string(*y) + " is outside the tile matrix set"));
  auto tilesize = optional_int(req, "tilesize", 1);
  if (!tilesize) return fail(ctx, tilesize.error());
  double buffer = 0;
  if (req.has_query_param("buffer")) {
    auto b = parse_number(req.query_param("buffer"), "buffer");
    if (!b) return fail(ctx, b.error());
    buffer = *b;
  }
  // Bounds that keep the grid's sizes within int; raster.max_image_pixels decides the rest.
  if (buffer > 1024) return fail(ctx, Error::bad_request("buffer must be at most 1024"));
  if (tilesize->value_or(0) > 65536) return fail(ctx, Error::bad_request("tilesize must be at most 65536"));
  int size = tilesize->value_or(tms->matrix(*z)->tile_width * scale);
  auto grid = raster::tile_grid(*tms, tile, size, buffer);
  if (!grid) return fail(ctx, grid.error());
  auto layer_opts = layer_options(req);
  if (!layer_opts) return fail(ctx, layer_opts.error());
  auto render_opts = render_options(d, req, last->format);
  if (!render_opts) return fail(ctx, render_opts.error());

  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  auto inside = raster::tile_intersects(*tms, tile, file->reader->info());
  if (!inside) return fail(ctx, inside.error());
  if (!*inside) {
    return fail(ctx, Error::not_found("tile " + std::to_string(*z) + "/" + std::to_string(*x) + "/" +
                                      std::to_string(*y) + " is outside the raster's bounds"));
  }
  auto response = render_image(d, *file->reader, *grid, *layer_opts, std::move(*render_opts));
  if (!response) return fail(ctx, response.error());
  d.tile_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return std::move(response).value();
}

Response cog_tilejson(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  Error error;
  const auto* tms = tms_param(req, error);
  if (!tms) return fail(ctx, error);
  std::string suffix;
  if (req.has_query_param("tile_format")) {
    auto format = raster::parse_image_format(req.query_param("tile_format"));
    if (!format)
      return fail(ctx, Error::bad_request("unsupported tile_format '" + req.query_param("tile_format") + "'"));
    suffix = "." + req.query_param("tile_format");
  }
  auto minzoom = optional_int(req, "minzoom", 0);
  auto maxzoom = optional_int(req, "maxzoom", 0);
  auto tilesize = optional_int(req, "tilesize", 1);
  if (!minzoom) return fail(ctx, minzoom.error());
  if (!maxzoom) return fail(ctx, maxzoom.error());
  if (!tilesize) return fail(ctx, tilesize.error());
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());

  auto qs = handed_out_query(d, ctx, req, *file, {"tilematrixsetid", "tile_format", "minzoom", "maxzoom"});
  if (!req.has_query_param("tilesize")) qs.emplace_back("tilesize", "512");
  std::string tiles = d.config.server.public_url + "/cog/tiles/" + percent_encode(tms->id, false) + "/{z}/{x}/{y}" +
                      suffix + "?" + encode_query(qs);
  return Response::json(200, raster::tilejson(file->reader->info(), *tms, tiles, *minzoom, *maxzoom));
}

// The viewer page for a file: the same authorization as its tiles (a token, or a grant so
// that the URL opens in a plain browser); the page then loads the layer's TileJSON and its
// point values with the grant this answer carries.
Response cog_map(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  Error error;
  const auto* tms = tms_param(req, error);
  if (!tms) return fail(ctx, error);
  auto file = open_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  const std::string& base = d.config.server.public_url;
  MapViewerPage page;
  page.tms_id = tms->id;
  page.tilejson_url = base + "/cog/" + percent_encode(tms->id, false) + "/tilejson.json?" +
                      encode_query(handed_out_query(d, ctx, req, *file, {"tilematrixsetid"}));
  page.point_url = base + "/cog/point/{lon},{lat}?" +
                   encode_query(handed_out_query(d, ctx, req, *file,
                                                 {"tilematrixsetid", "tile_format", "minzoom", "maxzoom", "tilesize"}));
  Response r = Response::text(200, map_viewer_html(page), "text/html; charset=utf-8");
  // The page carries a grant: kept by no cache.
  r.with_header("Content-Security-Policy", map_viewer_csp(base))
      .with_header("Cache-Control", "no-store")
      .with_header("X-Content-Type-Options", "nosniff");
  return r;
}

Response cog_preview(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  // /preview, /preview.{format}, /preview/{width}x{height}.{format}
  std::optional<ImageFormat> format;
  raster::SizeRequest size;
  if (auto it = req.path_params.find("size"); it != req.path_params.end()) {
    if (auto st = read_sized_format(it->second, size, format); !st) return fail(ctx, st.error());
  } else if (size_t dot = req.path.rfind('.'); dot != std::string::npos && dot > req.path.rfind('/')) {
    format = raster::parse_image_format(std::string_view(req.path).substr(dot + 1));
    if (!format) return fail(ctx, Error::bad_request("unsupported image format"));
  }
  if (auto st = read_size(req, size); !st) return fail(ctx, st.error());
  return render_area(d, ctx, req, format, [&](const raster::RasterInfo& info) {
    return raster::preview_grid(info, size, optional_crs(req, "dst_crs"));
  });
}

Response cog_bbox(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  // /bbox/{minx},{miny},{maxx},{maxy}.{format} and .../{width}x{height}.{format}
  raster::BBoxRequest bbox;
  std::string box_text = req.path_params.at("bbox");
  std::optional<ImageFormat> format;
  if (auto it = req.path_params.find("size"); it != req.path_params.end()) {
    if (auto st = read_sized_format(it->second, bbox.size, format); !st) return fail(ctx, st.error());
  } else {
    // The numbers themselves hold dots: the format is what follows the last one only when
    // it is a format name.
    size_t dot = box_text.rfind('.');
    if (dot != std::string::npos) format = raster::parse_image_format(std::string_view(box_text).substr(dot + 1));
    if (!format)
      return fail(ctx, Error::bad_request("/bbox needs a format: /bbox/{minx},{miny},{maxx},{maxy}.{format}"));
    box_text.resize(dot);
  }
  if (!format) return fail(ctx, Error::bad_request("/bbox needs a format"));
  auto box = parse_numbers(box_text, 4, "the bbox {minx},{miny},{maxx},{maxy}");
  if (!box) return fail(ctx, box.error());
  bbox.bbox = {(*box)[0], (*box)[1], (*box)[2], (*box)[3]};
  if (auto crs = optional_crs(req, "coord_crs")) bbox.bbox_crs = *crs;
  bbox.dst_crs = optional_crs(req, "dst_crs");
  if (auto st = read_size(req, bbox.size); !st) return fail(ctx, st.error());
  return render_area(d, ctx, req, format,
                     [&](const raster::RasterInfo& info) { return raster::bbox_grid(info, bbox); });
}

Response tile_matrix_sets(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  (void)ctx, (void)req;
  return Response::json(200, raster::tile_matrix_set_list_json(d.config.server.public_url + "/tileMatrixSets"));
}

Response tile_matrix_set(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  (void)d;
  Error error;
  const auto* tms = tms_param(req, error);
  if (!tms) return fail(ctx, error);
  return Response::json(200, tms->to_json());
}

}  // namespace scigate::api
