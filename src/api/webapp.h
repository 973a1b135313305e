// The scientist's web app at GET /ui/ (web/app/): one page, generated here, whose own
// scripts route by the URL fragment (#/runs/ID, ...) and talk to the API with the token
// the user pasted (kept in sessionStorage, never in a URL the server sees).
//
// The page runs no inline script or style: the versioned URLs of the libraries it loads
// only when a view needs them (MapLibre, OpenSeadragon) travel in data- attributes of
// <body>, and it is served with webapp_csp(): scripts and styles from the page's origin
// only, as the map viewer's.
#pragma once

#include <string>
#include <string_view>

#include "api/api.h"

namespace scigate::api {

// The page. Every URL in it is a versioned /static/ URL (immutable, api/assets.h).
std::string webapp_html();

// The map viewer's policy (map_viewer_csp(): it shows the same maps) plus the hash of the
// one stylesheet OpenSeadragon writes into the page.
std::string webapp_csp(std::string_view public_url);

// GET /ui/{path...}: the page for any path below /ui/ (the app routes by fragment, so
// a path typed by hand still lands in the app), with its CSP. No authentication: the
// page is the same for everyone and holds no data.
Response webapp_page(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// GET / and GET /ui: 302 to /ui/. Not 301/308: a permanent redirect is cached by
// browsers without limit, which would pin "/" to the app even after a later release
// serves something else there; 303 is meant for answers to POSTs.
Response webapp_redirect(const ApiDeps& d, const RequestContext& ctx, const Request& req);

}  // namespace scigate::api
