// Deep zoom endpoints for images that are not maps: DZI (/dzi) and IIIF Image API 3.0
// level 1 (/iiif), over the same reader, authorization and grants as the tiler.
//
// Why the file is named by a path segment (the "deep zoom id") and not by a query string:
// viewers build tile URLs from the descriptor's URL or from info.json's `id` alone.
// OpenSeadragon's DziTileSource replaces "NAME.dzi?QUERY" with "NAME_files/" and, depending
// on the version, appends the query again or drops it (the 5.x code tests for ".dzi?"
// after having removed it); its IIIFTileSource appends "/{region}/{size}/..." to the `id`.
// So the id carries everything: which file (data_selection or run, and path: never a bucket
// name) and the grant that lets a token-less viewer read it, as
//   base64url("d" or "r" \n selection-or-run \n path) [ "." EXPIRY "." SIGNATURE ]
// A grant expires (raster.grant_ttl); a viewer then asks GET /deepzoom again. The query
// form of the tiler (?data_selection=..&path=.., ?run=.., ?url=..; grant=) works for DZI
// too, for callers that keep queries.
#include "raster/deepzoom.h"

#include <charconv>
#include <chrono>

#include "api/common.h"
#include "api/raster_access.h"
#include "core/base64.h"
#include "core/key_path.h"

namespace json = boost::json;

namespace scigate::api {

namespace {

struct DeepZoomId {
  char kind = 'd';  // 'd': data selection; 'r': run
  std::string owner;
  std::string path;
  std::string grant;  // "" when the caller brings a token
};

std::string base64url(std::string_view in) {
  std::string s = base64_encode(in);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : (c == '/' ? '_' : c);
  return s;
}

std::string encode_id(const DeepZoomId& id) {
  std::string out = base64url(std::string(1, id.kind) + "\n" + id.owner + "\n" + id.path);
  if (!id.grant.empty()) out += "." + id.grant;
  return out;
}

// An id that does not decode names no file: 404 for everyone.
Result<DeepZoomId> decode_id(std::string_view text) {
  const auto none = [] { return Error::not_found("no such image"); };
  size_t dot = text.find('.');
  std::string raw;
  if (!base64url_decode(text.substr(0, dot), raw)) return none();
  size_t a = raw.find('\n'), b = a == std::string::npos ? a : raw.find('\n', a + 1);
  if (a != 1 || b == std::string::npos || (raw[0] != 'd' && raw[0] != 'r')) return none();
  DeepZoomId id{raw[0], raw.substr(2, b - 2), raw.substr(b + 1), ""};
  if (dot != std::string_view::npos) id.grant = std::string(text.substr(dot + 1));
  return id;
}

bool names_file_by_query(const Request& req) {
  return req.has_query_param("data_selection") || req.has_query_param("run") || req.has_query_param("url");
}

// The request as the tiler would have received it: the id's file and grant as query values.
Request as_query_request(const Request& req, const DeepZoomId& id) {
  Request named = req;
  named.query.clear();
  named.query.emplace_back(id.kind == 'd' ? "data_selection" : "run", id.owner);
  named.query.emplace_back("path", id.path);
  if (!id.grant.empty()) named.query.emplace_back("grant", id.grant);
  return named;
}

struct DeepZoomFile {
  AuthorizedRaster file;
  std::shared_ptr<raster::RasterSource> image;
  std::optional<DeepZoomId> id;  // unset for the query form
};

// The authorized file's image: a pyramidal TIFF, or a flat image made into one.
Result<std::shared_ptr<raster::RasterSource>> open_image(const ApiDeps& d, const AuthorizedRaster& file) {
  auto image = d.rasters.open_image(file.object.provider, file.object.bucket, file.object.key);
  if (!image && image.error().code == ErrorCode::kNotFound) return Error::not_found("no such raster");
  return image;
}

// Opens the file that `name` (an id) or, for DZI, the query names.
Result<DeepZoomFile> open_named(const ApiDeps& d, const RequestContext& ctx, const Request& req, std::string_view name,
                                bool query_allowed) {
  DeepZoomFile out;
  const bool by_query = query_allowed && names_file_by_query(req);
  if (!by_query) {
    auto id = decode_id(name);
    if (!id) return id.error();
    out.id = std::move(id).value();
  }
  auto file = authorize_raster(d, ctx, by_query ? req : as_query_request(req, *out.id));
  if (!file) return file.error();
  auto image = open_image(d, *file);
  if (!image) return image.error();
  out.file = std::move(file).value();
  out.image = std::move(image).value();
  return out;
}

// The id to hand out: the caller's, with a grant (theirs, or a new one for a token holder).
std::string handed_out_id(const ApiDeps& d, const RequestContext& ctx, DeepZoomId id, const AuthorizedRaster& file) {
  if (id.grant.empty()) {
    auto ttl = std::chrono::duration_cast<SystemTime::duration>(d.config.raster.grant_ttl);
    id.grant = file.grant.empty() ? make_grant(d.grant_signer, file.object, ctx.now + ttl) : file.grant;
  }
  return encode_id(id);
}

Result<int> parse_index(std::string_view text, const char* what) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Error::bad_request(std::string(what) + " must be an integer");
  }
  return v;
}

raster::DziLayout layout_of(const ApiDeps& d, const raster::RasterInfo& info) {
  const auto& z = d.config.raster.deepzoom;
  return raster::DziLayout{info.width, info.height, z.tile_size, z.overlap};
}

raster::IiifLimits iiif_limits(const ApiDeps& d) { return raster::IiifLimits{d.config.raster.max_image_pixels}; }

Response image_response(const raster::Rendered& rendered) {
  Response r;
  r.content_type = rendered.media_type;
  r.body = rendered.body;
  r.with_header("Cache-Control", "private, max-age=300");
  return r;
}

}  // namespace

Response deepzoom_links(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  if (req.has_query_param("url"))
    return fail(ctx, Error::bad_request("deep zoom ids name files by data_selection or run, not url"));
  if (!names_file_by_query(req)) return fail(ctx, Error::bad_request("data_selection or run, and path, are required"));
  auto file = authorize_raster(d, ctx, req);
  if (!file) return fail(ctx, file.error());
  auto image = open_image(d, *file);
  if (!image) return fail(ctx, image.error());
  const bool by_run = req.has_query_param("run");
  DeepZoomId id{by_run ? 'r' : 'd', req.query_param(by_run ? "run" : "data_selection"), req.query_param("path"), ""};
  const std::string handed = handed_out_id(d, ctx, id, *file);
  const std::string& base = d.config.server.public_url;
  const auto& info = (*image)->info();
  return Response::json(200, json::object{{"id", handed},
                                          {"dzi", base + "/dzi/" + handed + ".dzi"},
                                          {"iiif", base + "/iiif/" + handed + "/info.json"},
                                          {"width", info.width},
                                          {"height", info.height}});
}

Response dzi_descriptor(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  std::string_view name = req.path_params.at("file");
  if (!name.ends_with(".dzi")) return fail(ctx, Error::not_found("not found"));
  name.remove_suffix(4);
  auto file = open_named(d, ctx, req, name, true);
  if (!file) return fail(ctx, file.error());
  const auto layout = layout_of(d, file->image->info());
  Response r = Response::text(200, raster::dzi_descriptor(layout, d.config.raster.deepzoom.format),
                              "application/xml; charset=utf-8");
  r.with_header("Cache-Control", "private, max-age=300");
  return r;
}

Response dzi_tile(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto started = std::chrono::steady_clock::now();
  std::string_view files = req.path_params.at("files");
  if (!files.ends_with("_files")) return fail(ctx, Error::not_found("not found"));
  files.remove_suffix(6);
  // {col}_{row}.{format}
  std::string_view tile = req.path_params.at("tile");
  size_t dot = tile.rfind('.'), sep = tile.find('_');
  if (dot == std::string_view::npos || sep == std::string_view::npos || sep > dot)
    return fail(ctx, Error::bad_request("a DZI tile is {level}/{col}_{row}.{format}"));
  std::string_view ext = tile.substr(dot + 1);
  raster::ImageFormat format;
  if (ext == "jpeg" || ext == "jpg") {
    format = raster::ImageFormat::kJpeg;
  } else if (ext == "png") {
    format = raster::ImageFormat::kPng;
  } else {
    return fail(ctx, Error::bad_request("DZI tiles are jpeg, jpg or png"));
  }
  auto level = parse_index(req.path_params.at("level"), "level");
  auto col = parse_index(tile.substr(0, sep), "column");
  auto row = parse_index(tile.substr(sep + 1, dot - sep - 1), "row");
  if (!level) return fail(ctx, level.error());
  if (!col) return fail(ctx, col.error());
  if (!row) return fail(ctx, row.error());
  auto file = open_named(d, ctx, req, files, true);
  if (!file) return fail(ctx, file.error());
  auto where = raster::dzi_tile(layout_of(d, file->image->info()), *level, *col, *row);
  if (!where) return fail(ctx, where.error());
  auto rendered = raster::render_dzi_tile(*file->image, *where, format, d.config.raster.png_level);
  if (!rendered) return fail(ctx, rendered.error());
  d.tile_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return image_response(*rendered);
}

Response iiif_base(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  (void)ctx;
  // The spec: the base URI redirects to info.json.
  const std::string location =
      d.config.server.public_url + "/iiif/" + percent_encode(req.path_params.at("id"), false) + "/info.json";
  Response r = Response::text(303, "");
  r.with_header("Location", location);
  return r;
}

Response iiif_info(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto file = open_named(d, ctx, req, req.path_params.at("id"), false);
  if (!file) return fail(ctx, file.error());
  const auto& info = file->image->info();
  const std::string id = d.config.server.public_url + "/iiif/" + handed_out_id(d, ctx, *file->id, file->file);
  const auto& z = d.config.raster.deepzoom;
  Response r =
      Response::json(200, raster::iiif_info(id, info.width, info.height, z.tile_size + 2 * z.overlap, iiif_limits(d)));
  // A token holder's answer carries a new grant: kept by no shared cache.
  r.with_header("Cache-Control", "private, max-age=60");
  r.with_header("Link", "<http://iiif.io/api/image/3/level1.json>;rel=\"profile\"");
  return r;
}

Response iiif_image(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto started = std::chrono::steady_clock::now();
  // What does not depend on the image is checked before any read.
  if (auto s = raster::parse_iiif_rotation(req.path_params.at("rotation")); !s) return fail(ctx, s.error());
  auto qf = raster::parse_iiif_quality_format(req.path_params.at("quality"));
  if (!qf) return fail(ctx, qf.error());
  auto file = open_named(d, ctx, req, req.path_params.at("id"), false);
  if (!file) return fail(ctx, file.error());
  const auto& info = file->image->info();
  auto r = raster::parse_iiif_request(req.path_params.at("region"), req.path_params.at("size"),
                                      req.path_params.at("rotation"), req.path_params.at("quality"), info.width,
                                      info.height, iiif_limits(d));
  if (!r) return fail(ctx, r.error());
  const raster::PixelRegion region{double(r->region.x), double(r->region.y), double(r->region.width),
                                   double(r->region.height)};
  auto rendered = raster::render_pixels(*file->image, region, r->width, r->height, r->quality, r->format,
                                        d.config.raster.png_level);
  if (!rendered) return fail(ctx, rendered.error());
  d.tile_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  Response out = image_response(*rendered);
  out.with_header("Link", "<http://iiif.io/api/image/3/level1.json>;rel=\"profile\"");
  return out;
}

}  // namespace scigate::api
