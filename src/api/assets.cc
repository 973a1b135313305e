#include "api/assets.h"

#include <zlib.h>

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

// gzip (RFC 1952) of `bytes` at the best level (compressed once per process), or "" when
// it saves less than a tenth: already-compressed images gain nothing and cost the
// client a decompression.
std::string gzip_if_smaller(std::string_view bytes) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() > bytes.size() * 9 / 10) return "";
  return out;
}

// Whether Accept-Encoding (RFC 9110 §12.5.3) allows gzip: listed (or "*") without q=0.
bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    std::string params = semi == std::string_view::npos ? "" : std::string(item.substr(semi + 1));
    std::erase_if(params, [](char c) { return c == ' ' || c == '\t'; });
    // q=0, q=0.0, q=0.00, q=0.000 refuse; any other weight accepts.
    bool refused = params.starts_with("q=0") && params.find_first_not_of("0.", 3) == std::string::npos;
    return !refused;
  }
  return false;
}

std::vector<StaticAsset> build_assets() {
  std::vector<StaticAsset> assets;
  for (const EmbeddedFile& f : embedded_files()) {
    std::string hash = sha256_hex(f.bytes);
    std::string gzip = gzip_if_smaller(f.bytes);
    std::string gzip_etag = gzip.empty() ? "" : "\"" + hash + "-gzip\"";
    assets.push_back({f.path, f.bytes, media_type(f.path), "\"" + hash + "\"", hash.substr(0, 16), std::move(gzip),
                      std::move(gzip_etag)});
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
  bool gzip = !asset->gzip.empty() && accepts_gzip(req.header("accept-encoding"));
  const std::string& etag = gzip ? asset->gzip_etag : asset->etag;
  Response r;
  if (none_match(req.header("if-none-match"), etag)) {
    r.status = 304;
    r.content_type.clear();
  } else {
    r = Response::streamed(200, static_source(gzip ? std::string_view(asset->gzip) : asset->bytes),
                           std::string(asset->media_type));
    if (gzip) r.with_header("Content-Encoding", "gzip");
  }
  r.with_header("ETag", etag)
      .with_header("Cache-Control", std::string(cache))
      .with_header("X-Content-Type-Options", "nosniff");
  // Caches must key on Accept-Encoding for anything that has a gzip variant.
  if (!asset->gzip.empty()) r.with_header("Vary", "Accept-Encoding");
  return r;
}

}  // namespace scigate::api
