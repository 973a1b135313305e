#include "http/metrics.h"

#include <sstream>

namespace scigate {

std::string prometheus_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

namespace {
// The method is the client's choice (any token): one series per invented method would
// let anyone grow the metrics without bound.
const std::string& method_label(const std::string& method) {
  static const std::string kKnown[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  static const std::string kOther = "other";
  for (const auto& m : kKnown) {
    if (m == method) return m;
  }
  return kOther;
}
}  // namespace

void Metrics::observe(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mu_);
  Series& s = series_[{route, method_label(method), status}];
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
}

void Metrics::add_collector(Collector collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
  std::ostringstream out;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
    out << "# HELP scigate_http_requests_total HTTP requests by route, method and status.\n"
        << "# TYPE scigate_http_requests_total counter\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      out << "scigate_http_requests_total{route=\"" << prometheus_label(route) << "\",method=\"" << method
          << "\",status=\"" << status << "\"} " << s.count << "\n";
    }
    out << "# HELP scigate_http_request_duration_seconds Request latency by route, method and status.\n"
        << "# TYPE scigate_http_request_duration_seconds histogram\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      std::string labels = "route=\"" + prometheus_label(route) + "\",method=\"" + method + "\",status=\"" +
                           std::to_string(status) + "\"";
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out << "scigate_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i] << "\"} "
            << s.buckets[i] << "\n";
      }
      out << "scigate_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << s.count << "\n"
          << "scigate_http_request_duration_seconds_sum{" << labels << "} " << s.sum << "\n"
          << "scigate_http_request_duration_seconds_count{" << labels << "} " << s.count << "\n";
    }
  }
  for (const auto& c : collectors) out << c();
  return out.str();
}

}  // namespace scigate
