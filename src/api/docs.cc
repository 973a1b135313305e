#include "api/docs.h"

#include "api/assets.h"
#include "api/html.h"

namespace scigate::api {

std::string docs_html() {
  auto asset = [](std::string_view path) { return html_escape(static_asset_url(path)); };
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>scigate API</title>\n"
         // No favicon request (it would be a 404 in the console).
         "<link rel=\"icon\" href=\"data:,\">\n"
         "<link rel=\"stylesheet\" href=\"" +
         asset("swagger-ui.css") +
         "\">\n</head>\n<body>\n"
         "<div id=\"swagger-ui\" data-openapi-url=\"/openapi.json\"></div>\n"
         "<script src=\"" +
         asset("swagger-ui-bundle.js") + "\"></script>\n<script src=\"" + asset("docs/init.js") +
         "\"></script>\n</body>\n</html>\n";
}

std::string docs_csp() {
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";
}

}  // namespace scigate::api
