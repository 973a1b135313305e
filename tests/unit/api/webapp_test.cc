// The web app's page: no inline script or style, only versioned URLs of embedded assets
// (also those it loads later, named in data- attributes). Its headers and redirects:
// tests/integration/test_webapp.py.
#include "api/webapp.h"

#include <gtest/gtest.h>

#include <regex>

#include "api/assets.h"
#include "api/viewer.h"
#include "html_matchers.h"

namespace scigate::api {
namespace {

TEST(WebApp, PageRunsNoInlineCode) {
  std::string html = webapp_html();
  std::vector<std::string> scripts = all_captures(html, "(<script[^>]*>[^<]*</script>)");
  EXPECT_EQ(all_captures(html, "(<script)").size(), scripts.size());
  EXPECT_GE(scripts.size(), 5u);
  for (const auto& s : scripts)
    EXPECT_TRUE(std::regex_match(s, std::regex("<script defer src=\"[^\"]+\"></script>"))) << s;
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find("style="), std::string::npos);
  EXPECT_TRUE(all_captures(html, "( on[a-z]+=)").empty());
}

TEST(WebApp, EveryAssetUrlIsAVersionedEmbeddedAsset) {
  std::string html = webapp_html();
  std::vector<std::string> urls = all_captures(html, "(?:src|href|data-[a-z-]+)=\"(/static/[^\"]*)\"");
  // app.css, five scripts, MapLibre's script and style, OpenSeadragon.
  EXPECT_EQ(urls.size(), 9u) << html;
  for (const auto& url : urls) {
    std::string path = url.substr(8, url.find('?') - 8);
    const StaticAsset* asset = find_static_asset(path);
    ASSERT_NE(asset, nullptr) << url;
    EXPECT_EQ(url, "/static/" + path + "?v=" + asset->version);
  }
  for (const char* lazy : {"data-maplibre-js", "data-maplibre-css", "data-osd-js"})
    EXPECT_NE(html.find(lazy), std::string::npos) << lazy;
}

TEST(WebApp, PolicyIsTheViewersPlusOpenSeadragonsStyleHash) {
  std::string csp = webapp_csp("https://gw.example.org");
  std::string viewer = map_viewer_csp("https://gw.example.org");
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);
  EXPECT_NE(csp.find("style-src 'self' 'sha256-"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-"), std::string::npos);
  // Nothing else differs.
  std::string without_hash = std::regex_replace(csp, std::regex(" 'sha256-[A-Za-z0-9+/=]+'"), "");
  EXPECT_EQ(without_hash, viewer);
}

}  // namespace
}  // namespace scigate::api
