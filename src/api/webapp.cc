#include "api/webapp.h"

#include "api/assets.h"
#include "api/html.h"
#include "api/viewer.h"

namespace scigate::api {

namespace {

// Loaded with the page: the app's own code. MapLibre and OpenSeadragon (1.4 MB together)
// are loaded by the app when a viewer opens, so the first view costs only these.
constexpr std::string_view kScripts[] = {"app/api.js", "app/dom.js", "app/viewers.js", "app/views.js", "app/main.js"};

// OpenSeadragon 6 adds one <style> element of its own (a focus rule for touch screens):
// the policy allows exactly that text by its hash rather than any inline style. Another
// OpenSeadragon version with another text makes it a CSP error in the browser test.
constexpr std::string_view kOpenSeadragonStyle = "'sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE='";

std::string lazy_asset(std::string_view attribute, std::string_view path) {
  return " data-" + std::string(attribute) + "=\"" + html_escape(static_asset_url(path)) + "\"";
}

}  // namespace

std::string webapp_html() {
  std::string html =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>scigate</title>\n<link rel=\"icon\" href=\"data:,\">\n"
      "<link rel=\"stylesheet\" href=\"" +
      html_escape(static_asset_url("app/app.css")) + "\">\n";
  for (std::string_view script : kScripts)
    html += "<script defer src=\"" + html_escape(static_asset_url(script)) + "\"></script>\n";
  html += "</head>\n<body" + lazy_asset("maplibre-js", "maplibre-gl.js") +
          lazy_asset("maplibre-css", "maplibre-gl.css") + lazy_asset("osd-js", "openseadragon.min.js") +
          ">\n"
          "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
          "<header class=\"bar\">\n<a class=\"brand\" href=\"#/runs\">scigate</a>\n"
          "<nav id=\"nav\" aria-label=\"Main\" hidden>\n"
          "<a href=\"#/runs\">Runs</a>\n<a href=\"#/workflows\">Workflows</a>\n<a href=\"#/data\">Data</a>\n"
          "<button type=\"button\" id=\"sign-out\">Sign out</button>\n</nav>\n</header>\n"
          "<div id=\"flash\" class=\"flash\" role=\"alert\" hidden></div>\n"
          "<main id=\"main\" tabindex=\"-1\"><p class=\"muted\">Loading…</p></main>\n"
          // Shown by browsers that run no script at all, instead of a blank page.
          "<noscript><p class=\"flash\">The scigate web app needs JavaScript.</p></noscript>\n"
          "</body>\n</html>\n";
  return html;
}

std::string webapp_csp(std::string_view public_url) {
  std::string csp = map_viewer_csp(public_url);
  constexpr std::string_view kStyles = "style-src 'self'";
  if (size_t at = csp.find(kStyles); at != std::string::npos)
    csp.insert(at + kStyles.size(), " " + std::string(kOpenSeadragonStyle));
  return csp;
}

Response webapp_page(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  (void)ctx;
  (void)req;
  Response r = Response::text(200, webapp_html(), "text/html; charset=utf-8");
  // The page changes with every build (its asset versions): revalidated, never stale.
  r.with_header("Content-Security-Policy", webapp_csp(d.config.server.public_url))
      .with_header("Cache-Control", "no-cache")
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("Referrer-Policy", "no-referrer");
  return r;
}

Response webapp_redirect(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  (void)d;
  (void)ctx;
  (void)req;
  Response r = Response::text(302, "");
  r.with_header("Location", "/ui/");
  return r;
}

}  // namespace scigate::api
