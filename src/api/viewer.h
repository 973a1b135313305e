// The map viewer page of GET /cog/{tileMatrixSetId}/map.html (as TiTiler's map.html): a
// full-window MapLibre map of the layer a TileJSON describes, fitted to its bounds; a
// click shows the point values there in a popup.
//
// The page runs no inline script: its URLs travel in data- attributes (HTML-escaped) that
// the viewer's own script (web/viewer/map.js, served from /static/) reads, so it is
// served with map_viewer_csp(), which allows scripts and styles from the page's origin
// only.
#pragma once

#include <string>
#include <string_view>

namespace scigate::api {

struct MapViewerPage {
  std::string tilejson_url;  // the layer's TileJSON (same query as the page request)
  // Point values: "/cog/point/{lon},{lat}?..."; the page substitutes the clicked
  // coordinates for the {lon} and {lat} of the path (the query is left as it is).
  std::string point_url;
  std::string tms_id;  // only WebMercatorQuad is drawn; any other gets an explanation
};

// The page, every injected value escaped. Asset URLs are versioned /static/ URLs.
std::string map_viewer_html(const MapViewerPage& page);

// The Content-Security-Policy header for the page. `public_url` is server.public_url:
// its origin is allowed for fetches beside the page's own, since TileJSON tile URLs are
// absolute on it while a browser may have opened the page on another name of the same
// server (127.0.0.1 vs localhost). A public_url that is no plain http(s) origin is left
// out.
std::string map_viewer_csp(std::string_view public_url);

// The TMS MapLibre can display.
inline constexpr std::string_view kMapLibreTms = "WebMercatorQuad";

}  // namespace scigate::api
