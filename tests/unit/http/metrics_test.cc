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

// Found while writing the HTTP fuzz target: the server labels a request with the method
// the client sent, and Beast accepts any token as a method.
TEST(Metrics, InventedMethodsShareOneSeries) {
  Metrics m;
  for (int i = 0; i < 100; ++i) m.observe("unmatched", "X-METHOD-" + std::to_string(i), 404, 0.001);
  m.observe("unmatched", "DELETE", 404, 0.001);
  std::string text = m.render();
  EXPECT_NE(text.find("scigate_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 100"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("method=\"DELETE\""), std::string::npos);
  EXPECT_EQ(text.find("X-METHOD"), std::string::npos);
}

TEST(Metrics, EscapesLabels) { EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

}  // namespace
}  // namespace scigate
