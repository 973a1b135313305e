// The embedded assets and GET /static/{path...}: versions, caching, conditional requests.
#include "api/assets.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

#include "aws/sigv4.h"

namespace scigate::api {
namespace {

RequestContext ctx() { return {"req-1", "", std::chrono::system_clock::now()}; }

Request get(std::string tail, std::vector<std::pair<std::string, std::string>> query = {},
            std::map<std::string, std::string> headers = {}) {
  Request r;
  r.method = "GET";
  r.path = "/static/" + tail;
  r.tail = std::move(tail);
  r.query = std::move(query);
  r.headers = std::move(headers);
  return r;
}

std::string header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

std::string body(const Response& r) { return r.stream ? read_all(*r.stream) : r.body; }

TEST(StaticAssets, EmbedsTheViewerAndMapLibreWithContentHashes) {
  for (const char* path :
       {"maplibre-gl.js", "maplibre-gl.css", "maplibre-gl.LICENSE.txt", "viewer/map.js", "viewer/map.css"}) {
    const StaticAsset* asset = find_static_asset(path);
    ASSERT_NE(asset, nullptr) << path;
    EXPECT_GT(asset->bytes.size(), 0u) << path;
    std::string hash = sha256_hex(asset->bytes);
    EXPECT_EQ(asset->etag, "\"" + hash + "\"");
    EXPECT_EQ(asset->version, hash.substr(0, 16));
    EXPECT_EQ(static_asset_url(path), "/static/" + std::string(path) + "?v=" + asset->version);
  }
  // The real MapLibre build from npm, whole (its UMD bundle ends with the global).
  const StaticAsset* js = find_static_asset("maplibre-gl.js");
  EXPECT_NE(js->bytes.find("MapLibre GL JS"), std::string_view::npos);
  EXPECT_GT(js->bytes.size(), 500'000u);
  EXPECT_EQ(js->media_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_static_asset("viewer/map.css")->media_type, "text/css; charset=utf-8");
  auto all = static_assets();
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.path < b.path; }));
}

TEST(StaticAssets, VersionedUrlIsImmutable) {
  const StaticAsset* asset = find_static_asset("maplibre-gl.js");
  Response r = static_asset(ctx(), get("maplibre-gl.js", {{"v", asset->version}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(header(r, "ETag"), asset->etag);
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  // Sent in place from the binary, not copied into the response.
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.stream->size(), asset->bytes.size());
  EXPECT_TRUE(body(r) == asset->bytes);
}

TEST(StaticAssets, UnversionedOrStaleUrlRevalidates) {
  const StaticAsset* asset = find_static_asset("viewer/map.js");
  for (const auto& query :
       std::vector<std::vector<std::pair<std::string, std::string>>>{{}, {{"v", "0000000000000000"}}, {{"v", ""}}}) {
    Response r = static_asset(ctx(), get("viewer/map.js", query));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=300");
    EXPECT_EQ(header(r, "ETag"), asset->etag);
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_TRUE(body(r) == asset->bytes);
  }
}

TEST(StaticAssets, IfNoneMatchWithTheCurrentEtagIs304) {
  const StaticAsset* asset = find_static_asset("viewer/map.css");
  for (std::string inm : {asset->etag, "\"other\", W/" + asset->etag, std::string("*"), " " + asset->etag + " "}) {
    Response r = static_asset(ctx(), get("viewer/map.css", {}, {{"if-none-match", inm}}));
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_EQ(body(r), "") << inm;
    EXPECT_EQ(r.stream, nullptr);
    EXPECT_EQ(r.content_type, "");
    EXPECT_EQ(header(r, "ETag"), asset->etag);
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=300");
  }
  for (std::string inm : {std::string("\"other\""), asset->version, asset->etag.substr(1)}) {
    Response r = static_asset(ctx(), get("viewer/map.css", {}, {{"if-none-match", inm}}));
    EXPECT_EQ(r.status, 200) << inm;
    EXPECT_TRUE(body(r) == asset->bytes);
  }
}

std::string gunzip(std::string_view gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

TEST(StaticAssets, GzipWhenAcceptedWithItsOwnEtag) {
  const StaticAsset* asset = find_static_asset("maplibre-gl.js");
  ASSERT_FALSE(asset->gzip.empty());
  EXPECT_LT(asset->gzip.size(), asset->bytes.size() / 2);
  for (std::string ae : {"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "x-gzip"}) {
    Response r = static_asset(ctx(), get("maplibre-gl.js", {}, {{"accept-encoding", ae}}));
    EXPECT_EQ(r.status, 200) << ae;
    EXPECT_EQ(header(r, "Content-Encoding"), "gzip") << ae;
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    EXPECT_EQ(header(r, "ETag"), asset->gzip_etag);
    EXPECT_NE(asset->gzip_etag, asset->etag);
    EXPECT_TRUE(gunzip(body(r)) == asset->bytes) << ae;
  }
  // Refused or not offered: the identity bytes, still with Vary.
  for (std::string ae : {"", "br", "gzip;q=0", "gzip; q=0.000, br", "identity"}) {
    Response r = static_asset(ctx(), get("maplibre-gl.js", {}, {{"accept-encoding", ae}}));
    EXPECT_EQ(header(r, "Content-Encoding"), "") << ae;
    EXPECT_EQ(header(r, "ETag"), asset->etag) << ae;
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    EXPECT_TRUE(body(r) == asset->bytes) << ae;
  }
  // Revalidation is per variant.
  Response r = static_asset(
      ctx(), get("maplibre-gl.js", {}, {{"accept-encoding", "gzip"}, {"if-none-match", asset->gzip_etag}}));
  EXPECT_EQ(r.status, 304);
  r = static_asset(ctx(), get("maplibre-gl.js", {}, {{"accept-encoding", "gzip"}, {"if-none-match", asset->etag}}));
  EXPECT_EQ(r.status, 200);
}

TEST(StaticAssets, AnythingNotEmbeddedIs404) {
  for (const char* tail : {"", "nope.js", "viewer/", "viewer", "../CMakeLists.txt", "viewer/../maplibre-gl.js",
                           "maplibre-gl%2Ejs", "viewer%2Fmap.js", "/maplibre-gl.js", "maplibre-gl.js/"}) {
    Response r = static_asset(ctx(), get(tail));
    EXPECT_EQ(r.status, 404) << tail;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_NE(r.body.find("\"request_id\":\"req-1\""), std::string::npos);
  }
  EXPECT_EQ(find_static_asset("nope.js"), nullptr);
  EXPECT_EQ(static_asset_url("nope.js"), "/static/nope.js");
}

}  // namespace
}  // namespace scigate::api
