// The map viewer page: escaping of every injected value, no inline script, versioned
// asset URLs only, and its Content-Security-Policy.
#include "api/viewer.h"

#include <gtest/gtest.h>

#include <regex>

#include "api/assets.h"
#include "api/docs.h"
#include "html_matchers.h"

namespace scigate::api {
namespace {

// What a browser reads back from a double-quoted attribute value escaped by html_escape.
std::string unescape_attribute(std::string s) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  }
  return s;
}

// The raw value of attribute `name` in `html` (the first one).
std::string attribute(const std::string& html, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(html, m, std::regex(" " + name + "=\"([^\"]*)\""))) return "<absent>";
  return m[1];
}

const std::string kHostile =
    "/cog/WebMercatorQuad/tilejson.json?url=s3://b/k.tif&expression=\"'</script><script>alert(1)</script>"
    "<!--&amp;\\u2028`${x}`";

TEST(MapViewer, InjectedValuesAreEscapedAndReadBackExactly) {
  MapViewerPage page{kHostile, "/cog/point/{lon},{lat}?x=</script>\"'&y=1", "WebMercatorQuad"};
  std::string html = map_viewer_html(page);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(html.find("<!--"), std::string::npos);
  EXPECT_EQ(html.find("\"'"), std::string::npos);
  EXPECT_EQ(unescape_attribute(attribute(html, "data-tilejson-url")), page.tilejson_url);
  EXPECT_EQ(unescape_attribute(attribute(html, "data-point-url")), page.point_url);
  EXPECT_EQ(unescape_attribute(attribute(html, "data-tms")), "WebMercatorQuad");
}

TEST(MapViewer, RunsNoInlineScriptAndLoadsOnlyVersionedStaticAssets) {
  std::string html = map_viewer_html({kHostile, "/cog/point/{lon},{lat}?u=1", "WebMercatorQuad"});
  // Every <script> is an external one with an empty body (a CSP without 'unsafe-inline').
  EXPECT_EQ(all_captures(html, "(<script)").size(), 2u);
  EXPECT_EQ(all_captures(html, "(<script src=\"[^\"]*\"></script>)").size(), 2u);
  EXPECT_EQ(html.find("style="), std::string::npos);
  EXPECT_TRUE(all_captures(html, "( on[a-z]+=)").empty());  // no event handler attributes
  std::vector<std::string> urls = all_captures(html, "(?:src|href)=\"([^\"]*)\"");
  std::vector<std::string> expected = {"data:,", static_asset_url("maplibre-gl.css"),
                                       static_asset_url("viewer/map.css"), static_asset_url("maplibre-gl.js"),
                                       static_asset_url("viewer/map.js")};
  EXPECT_EQ(urls, expected);
  for (size_t i = 1; i < urls.size(); ++i) {
    std::string path = urls[i].substr(8, urls[i].find('?') - 8);
    ASSERT_NE(find_static_asset(path), nullptr) << urls[i];
    EXPECT_EQ(urls[i], "/static/" + path + "?v=" + find_static_asset(path)->version);
  }
}

TEST(MapViewer, OtherTileMatrixSetsGetAnExplanationInsteadOfAMap) {
  std::string html = map_viewer_html({"/cog/WorldCRS84Quad/tilejson.json?url=a\"<b>", "/p", "WorldCRS84Quad<i>"});
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("WorldCRS84Quad&lt;i&gt;: no map view"), std::string::npos);
  EXPECT_NE(html.find("/cog/WebMercatorQuad/map.html"), std::string::npos);
  EXPECT_NE(html.find("href=\"/cog/WorldCRS84Quad/tilejson.json?url=a&quot;&lt;b&gt;\""), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
}

TEST(MapViewer, CspAllowsOwnScriptsAndMapLibresWorkers) {
  std::string csp = map_viewer_csp("https://gw.example.org:8443/prefix/");
  for (const char* part : {"default-src 'none'", "script-src 'self';", "style-src 'self';",
                           "img-src 'self' data: blob:;", "worker-src blob:;", "child-src blob:;",
                           "connect-src 'self' https://gw.example.org:8443;", "base-uri 'none'"}) {
    EXPECT_NE(csp.find(part), std::string::npos) << part << " in " << csp;
  }
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);
  EXPECT_NE(map_viewer_csp("http://127.0.0.1:8080").find("connect-src 'self' http://127.0.0.1:8080;"),
            std::string::npos);
  // Only a plain http(s) origin ever reaches the header.
  for (const char* bad : {"", "gw.example.org", "javascript:alert(1)", "http://a;script-src *", "http://u:p@host",
                          "http://host\r\nX: y", "ftp://host", "http://"}) {
    EXPECT_NE(map_viewer_csp(bad).find("connect-src 'self';"), std::string::npos) << bad;
  }
}

// /docs: Swagger UI from npm, embedded, started by a static file under a strict policy.
TEST(DocsPage, RunsNoInlineScriptAndLoadsOnlyEmbeddedSwaggerUi) {
  std::string html = docs_html();
  EXPECT_EQ(all_captures(html, "(<script)").size(), 2u);
  EXPECT_EQ(all_captures(html, "(<script src=\"[^\"]*\"></script>)").size(), 2u);
  EXPECT_EQ(html.find("style="), std::string::npos);
  std::vector<std::string> urls = all_captures(html, "(?:src|href)=\"([^\"]*)\"");
  std::vector<std::string> expected = {"data:,", static_asset_url("swagger-ui.css"),
                                       static_asset_url("swagger-ui-bundle.js"), static_asset_url("docs/init.js")};
  EXPECT_EQ(urls, expected);
  EXPECT_EQ(attribute(html, "data-openapi-url"), "/openapi.json");
  const StaticAsset* bundle = find_static_asset("swagger-ui-bundle.js");
  ASSERT_NE(bundle, nullptr);
  EXPECT_NE(bundle->bytes.find("SwaggerUIBundle"), std::string_view::npos);
  ASSERT_NE(find_static_asset("swagger-ui.LICENSE.txt"), nullptr);
  std::string csp = docs_csp();
  EXPECT_NE(csp.find("default-src 'none'; script-src 'self'; style-src 'self';"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
}

}  // namespace
}  // namespace scigate::api
