#include "api/sidecar.h"

#include <gtest/gtest.h>

#include "api/html.h"

namespace scigate::api {
namespace {

TEST(Sidecar, WritesConfigparserShape) {
  EXPECT_EQ(write_sidecar("image.png", {{"Reviewer", "Thomas"}, {"quality", "good"}}),
            "[image.png]\nReviewer = Thomas\nquality = good\n\n");
}

TEST(Sidecar, ReadsBackWhatItWrites) {
  std::map<std::string, std::string> props{{"a", "1"}, {"b key", "x = y"}, {"c", ""}};
  EXPECT_EQ(read_sidecar(write_sidecar("f", props)), props);
  EXPECT_EQ(read_sidecar("# comment\n[s]\nk: v\n; other\njunk\n"), (std::map<std::string, std::string>{{"k", "v"}}));
}

// A workflow step may write any bytes into a .cfg; listings must stay valid JSON.
TEST(Sidecar, ReadingRepairsInvalidUtf8) {
  auto props = read_sidecar("[x.png]\nna\xffme = bad \xC0\xAF value\n");
  ASSERT_EQ(props.size(), 1u);
  EXPECT_EQ(props.begin()->first, "na\xEF\xBF\xBDme");
  EXPECT_EQ(props.begin()->second, "bad \xEF\xBF\xBD\xEF\xBF\xBD value");
}

TEST(Sidecar, RefusesAmbiguousProperties) {
  EXPECT_TRUE(check_property("ok key", "any value = with : signs"));
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"", "x"},
                                                                      {"a=b", "x"},
                                                                      {"a:b", "x"},
                                                                      {"[sec]", "x"},
                                                                      {"#c", "x"},
                                                                      {"k\nl", "x"},
                                                                      {"k", "line\nbreak"},
                                                                      {" padded", "x"},
                                                                      {std::string(2000, 'k'), "x"}}) {
    EXPECT_FALSE(check_property(k, v)) << k;
  }
}

TEST(Html, EscapesEverything) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
  EXPECT_TRUE(wants_html("text/html,application/xhtml+xml,*/*;q=0.8"));
  EXPECT_FALSE(wants_html("application/json"));
  EXPECT_FALSE(wants_html("application/json, text/html"));
  EXPECT_FALSE(wants_html(""));
}

}  // namespace
}  // namespace scigate::api
