#include "api/viewer.h"

#include "api/assets.h"
#include "api/html.h"

namespace scigate::api {

namespace {

// "scheme://host[:port]" of an http(s) URL, or "" when it is none (a value that could
// break out of the header is never returned).
std::string origin_of(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return "";
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "";
  for (char c : authority) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']';
    if (!ok) return "";  // userinfo, spaces, quotes, ';': not an origin to put in a policy
  }
  return std::string(scheme) + "://" + std::string(authority);
}

std::string head(std::string_view title) {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html_escape(title) +
         "</title>\n"
         // No favicon request (it would be a 404 in the console).
         "<link rel=\"icon\" href=\"data:,\">\n"
         "<link rel=\"stylesheet\" href=\"" +
         html_escape(static_asset_url("maplibre-gl.css")) + "\">\n<link rel=\"stylesheet\" href=\"" +
         html_escape(static_asset_url("viewer/map.css")) + "\">\n</head>\n";
}

std::string unsupported_tms(const MapViewerPage& page) {
  return head("scigate map: " + page.tms_id) + "<body>\n<main class=\"scigate-message\">\n<h1>" +
         html_escape(page.tms_id) +
         ": no map view</h1>\n<p>This viewer draws only <code>WebMercatorQuad</code> tiles (the projection "
         "MapLibre displays). Open <code>/cog/WebMercatorQuad/map.html</code> with the same query, or use the "
         "<a href=\"" +
         html_escape(page.tilejson_url) + "\">TileJSON of " + html_escape(page.tms_id) +
         "</a> in a client that supports this tile matrix set.</p>\n</main>\n</body>\n</html>\n";
}

}  // namespace

std::string map_viewer_html(const MapViewerPage& page) {
  if (page.tms_id != kMapLibreTms) return unsupported_tms(page);
  return head("scigate map") +
         "<body>\n"
         "<div id=\"map\" data-tilejson-url=\"" +
         html_escape(page.tilejson_url) + "\" data-point-url=\"" + html_escape(page.point_url) + "\" data-tms=\"" +
         html_escape(page.tms_id) +
         "\"></div>\n"
         "<div id=\"zoom\" class=\"scigate-zoom\" aria-live=\"polite\"></div>\n"
         "<div id=\"status\" class=\"scigate-status\" role=\"status\" hidden></div>\n"
         "<script src=\"" +
         html_escape(static_asset_url("maplibre-gl.js")) + "\"></script>\n<script src=\"" +
         html_escape(static_asset_url("viewer/map.js")) + "\"></script>\n</body>\n</html>\n";
}

std::string map_viewer_csp(std::string_view public_url) {
  std::string connect = "'self'";
  if (std::string origin = origin_of(public_url); !origin.empty()) connect += " " + origin;
  // MapLibre starts its workers from blob: URLs and turns tiles into blob:/data: images.
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src " + connect +
         "; worker-src blob:; child-src blob:; font-src 'self'; base-uri 'none'; form-action 'none'; "
         "frame-ancestors 'self'";
}

}  // namespace scigate::api
