#include "http/metrics.h"

#include <algorithm>
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

constexpr std::string_view kKnownMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

// The label for `method`: a view of a static string, never of the request.
std::string_view method_label(std::string_view method) {
  for (auto known : kKnownMethods) {
    if (known == method) return known;
  }
  return "other";
}

}  // namespace

bool is_known_method(std::string_view method) { return method_label(method) != "other"; }

void Metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
  int status_class = std::clamp(status / 100, 1, 5);
  std::string_view label = method_label(method);
  std::lock_guard lock(mu_);
  auto it = series_.find(std::tuple(route, label, status_class));
  if (it == series_.end()) it = series_.emplace(std::tuple(std::string(route), label, status_class), Series{}).first;
  Series& s = it->second;
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
    out << "# HELP scigate_http_requests_total HTTP requests by route, method and status class.\n"
        << "# TYPE scigate_http_requests_total counter\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      out << "scigate_http_requests_total{route=\"" << prometheus_label(route) << "\",method=\"" << method
          << "\",status=\"" << status << "xx\"} " << s.count << "\n";
    }
    out << "# HELP scigate_http_request_duration_seconds Request latency by route, method and status class.\n"
        << "# TYPE scigate_http_request_duration_seconds histogram\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      std::string labels = "route=\"" + prometheus_label(route) + "\",method=\"" + std::string(method) +
                           "\",status=\"" + std::to_string(status) + "xx\"";
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
