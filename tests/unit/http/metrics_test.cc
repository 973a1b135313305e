#include "http/metrics.h"

#include <gtest/gtest.h>

namespace scigate {
namespace {

TEST(Metrics, CountsAndHistogramsPerRouteMethodStatus) {
  Metrics m;
  m.observe("/workflows", "GET", 200, 0.0004);
  m.observe("/workflows", "GET", 200, 0.02);
  m.observe("/workflows", "GET", 401, 0.001);
  m.add_collector([] { return std::string("extra_metric 7\n"); });
  std::string text = m.render();
  EXPECT_NE(text.find("scigate_http_requests_total{route=\"/workflows\",method=\"GET\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scigate_http_requests_total{route=\"/workflows\",method=\"GET\",status=\"401\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("scigate_http_request_duration_seconds_bucket{route=\"/"
                      "workflows\",method=\"GET\",status=\"200\",le=\"0.0005\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("scigate_http_request_duration_seconds_bucket{route=\"/"
                      "workflows\",method=\"GET\",status=\"200\",le=\"0.025\"} 2"),
            std::string::npos);
  EXPECT_NE(
      text.find("scigate_http_request_duration_seconds_count{route=\"/workflows\",method=\"GET\",status=\"200\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE scigate_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("extra_metric 7"), std::string::npos);
}

TEST(Metrics, EscapesLabels) { EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

}  // namespace
}  // namespace scigate
