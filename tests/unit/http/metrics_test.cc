#include "http/metrics.h"

#include <gtest/gtest.h>

#include <sstream>

namespace scigate {
namespace {

TEST(Metrics, CountsAndHistogramsPerRouteMethodStatusClass) {
  Metrics m;
  m.observe("/workflows", "GET", 200, 0.0004);
  m.observe("/workflows", "GET", 200, 0.02);
  m.observe("/workflows", "GET", 401, 0.001);
  m.observe("/workflows", "GET", 404, 0.001);
  m.add_collector([] { return std::string("extra_metric 7\n"); });
  std::string text = m.render();
  EXPECT_NE(text.find("scigate_http_requests_total{route=\"/workflows\",method=\"GET\",status=\"2xx\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scigate_http_requests_total{route=\"/workflows\",method=\"GET\",status=\"4xx\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("scigate_http_request_duration_seconds_bucket{route=\"/"
                      "workflows\",method=\"GET\",status=\"2xx\",le=\"0.0005\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scigate_http_request_duration_seconds_bucket{route=\"/"
                      "workflows\",method=\"GET\",status=\"2xx\",le=\"0.025\"} 2"),
            std::string::npos);
  EXPECT_NE(
      text.find("scigate_http_request_duration_seconds_count{route=\"/workflows\",method=\"GET\",status=\"2xx\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE scigate_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("extra_metric 7"), std::string::npos);
}

// A request's method must never become a label: made-up methods would each add a
// series for good (10,000 of them once made a 867 MB scrape).
TEST(Metrics, LabelsComeFromBoundedSets) {
  Metrics m;
  for (int i = 0; i < 1000; ++i)
    m.observe("unmatched", "X" + std::to_string(i) + std::string(100, 'M'), 400 + i, 0.001);
  std::string text = m.render();
  EXPECT_EQ(text.find("XM"), std::string::npos);
  EXPECT_LT(text.size(), 8000u) << text;
  EXPECT_NE(text.find("route=\"unmatched\",method=\"other\",status=\"4xx\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("route=\"unmatched\",method=\"other\",status=\"5xx\"} 900"), std::string::npos) << text;
  EXPECT_TRUE(is_known_method("PUT"));
  EXPECT_FALSE(is_known_method("TRACE"));
  EXPECT_FALSE(is_known_method("get"));
}

TEST(Metrics, EscapesLabels) { EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

}  // namespace
}  // namespace scigate

TEST(Histogram, WithoutLabelsPrintsBareSumAndCount) {
  scigate::Histogram h;
  h.observe(0.003);
  h.observe(20);
  std::ostringstream out;
  h.write(out, "scigate_tile_duration_seconds", "");
  const std::string text = out.str();
  EXPECT_NE(text.find("scigate_tile_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_tile_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_tile_duration_seconds_count 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("scigate_tile_duration_seconds_sum 20.003\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("{}"), std::string::npos) << text;
}
