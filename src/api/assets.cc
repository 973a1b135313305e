#include "api/assets.h"

#include <algorithm>
#include <vector>

#include "api/common.h"
#include "aws/sigv4.h"

namespace scigate::api {

namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
// Unversioned URLs (typed by hand, or kept from an older page) revalidate soon.
constexpr std::string_view kRevalidate = "public, max-age=300";

std::string_view media_type(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes)
    if (path.ends_with(ext)) return type;
  return "application/octet-stream";
}

std::vector<StaticAsset> build_assets() {
  std::vector<StaticAsset> assets;
  for (const EmbeddedFile& f : embedded_files()) {
    std::string hash = sha256_hex(f.bytes);
    assets.push_back({f.path, f.bytes, media_type(f.path), "\"" + hash + "\"", hash.substr(0, 16)});
  }
  std::sort(assets.begin(), assets.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return assets;
}

// If-None-Match (RFC 9110 §13.1.2): "*" or a list of entity tags, compared weakly.
bool none_match(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

std::span<const StaticAsset> static_assets() {
  static const std::vector<StaticAsset> kAssets = build_assets();
  return kAssets;
}

const StaticAsset* find_static_asset(std::string_view path) {
  auto assets = static_assets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const StaticAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

std::string static_asset_url(std::string_view path) {
  std::string url = "/static/" + std::string(path);
  if (const StaticAsset* asset = find_static_asset(path)) url += "?v=" + asset->version;
  return url;
}

Response static_asset(const RequestContext& ctx, const Request& req) {
  // Asset paths are plain ASCII, so the still-encoded tail is compared as is: anything
  // encoded names no asset.
  const StaticAsset* asset = find_static_asset(req.tail);
  if (!asset) {
    return Response::error(Error::not_found("no such static asset"), ctx.request_id)
        .with_header("X-Content-Type-Options", "nosniff");
  }
  std::string_view cache = req.query_param("v") == asset->version ? kImmutable : kRevalidate;
  Response r;
  if (none_match(req.header("if-none-match"), asset->etag)) {
    r.status = 304;
    r.content_type.clear();
  } else {
    r = Response::streamed(200, static_source(asset->bytes), std::string(asset->media_type));
  }
  r.with_header("ETag", asset->etag)
      .with_header("Cache-Control", std::string(cache))
      .with_header("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace scigate::api
