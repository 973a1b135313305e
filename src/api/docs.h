// The page of GET /docs: Swagger UI (swagger-ui-dist from npm, embedded and served from
// /static/) over GET /openapi.json, with the document's Bearer scheme for "Authorize" and
// try-it-out against this server (the document's server URL is relative).
//
// The page runs no inline script: Swagger UI is started by web/docs/init.js, which reads
// the document's URL from a data- attribute, so the page is served with docs_csp().
#pragma once

#include <string>

namespace scigate::api {

std::string docs_html();

// Scripts, styles and fetches from the page's own origin only (no 'unsafe-inline': the
// browser test authorizes, tries a call and sees its answer with no CSP violation);
// images and fonts also as data: URLs, which Swagger UI's stylesheet uses for icons.
std::string docs_csp();

}  // namespace scigate::api
