// Browser assets embedded in the binary (MapLibre from web/node_modules, the viewer's own
// files from web/), served at GET /static/{path}: the binary needs nothing installed
// beside it and pages load nothing from a CDN.
//
// Caching: a URL that carries the asset's content version, `/static/{path}?v={version}`
// (what static_asset_url() gives), is immutable: cached for a year without revalidation,
// since a new build with other bytes has another version. Any other URL of the asset is
// cached briefly and revalidated with its ETag (If-None-Match → 304).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "api/api.h"

namespace scigate::api {

struct StaticAsset {
  std::string_view path;        // below /static/, e.g. "maplibre-gl.js"
  std::string_view bytes;       // in the binary's read-only data
  std::string_view media_type;  // from the extension
  std::string etag;             // "\"{sha256 hex}\""
  std::string version;          // the first 16 hex digits of the SHA-256
  // The bytes gzip-compressed (made once, on first use), or empty when compressing does
  // not pay (images, tiny files). Served to clients that accept gzip: MapLibre's 1 MB of
  // JavaScript is 280 KB on the wire.
  std::string gzip;
  std::string gzip_etag;  // a variant has its own entity tag (RFC 9110 §8.8.3)
};

// Every embedded asset, sorted by path. Built once on first use (thread-safe), then
// only read.
std::span<const StaticAsset> static_assets();
// Null when `path` is no embedded asset.
const StaticAsset* find_static_asset(std::string_view path);
// "/static/{path}?v={version}", the immutable URL of an embedded asset. `path` must be
// one (a programming error otherwise: the plain "/static/{path}" is returned, and a
// unit test checks every name the pages use).
std::string static_asset_url(std::string_view path);

// GET /static/{path...}: 200 with the bytes (gzip-encoded when the client accepts it and
// it pays), 304 when If-None-Match names the current ETag, 404 for anything not embedded. No authentication (the assets
// are public); the answer depends on nothing but the request, hence the overload without ApiDeps.
Response static_asset(const RequestContext& ctx, const Request& req);
inline Response static_asset(const ApiDeps&, const RequestContext& ctx, const Request& req) {
  return static_asset(ctx, req);
}

// The files as embedded by the build (generated from src/CMakeLists.txt's asset list):
// path below /static/ and bytes.
struct EmbeddedFile {
  std::string_view path;
  std::string_view bytes;
};
std::span<const EmbeddedFile> embedded_files();

}  // namespace scigate::api
