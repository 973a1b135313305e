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

void Histogram::observe(double seconds) {
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::max(seconds, 0.0) * 1e9), std::memory_order_relaxed);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  }
}

void Histogram::write(std::ostream& out, std::string_view name, std::string_view labels) const {
  std::string sep = labels.empty() ? "" : ",";
  std::string braced = labels.empty() ? "" : "{" + std::string(labels) + "}";
  // Buckets first, then the count: observe() counts first, so no bucket exceeds +Inf.
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    out << name << "_bucket{" << labels << sep << "le=\"" << kBuckets[i] << "\"} " << buckets_[i].load() << "\n";
  }
  uint64_t count = count_.load();
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << count << "\n"
      << name << "_sum" << braced << " " << static_cast<double>(sum_ns_.load()) / 1e9 << "\n"
      << name << "_count" << braced << " " << count << "\n";
}

Metrics::Series& Metrics::series_for(std::string_view route, std::string_view method, int status_class) {
  {
    std::shared_lock lock(mu_);
    auto it = series_.find(std::tuple(route, method, status_class));
    if (it != series_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  return series_.try_emplace(std::tuple(std::string(route), method, status_class)).first->second;
}

void Metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
  // Map nodes never move, so the series stays valid after the lock is released.
  series_for(route, method_label(method), std::clamp(status / 100, 1, 5)).observe(seconds);
}

void Metrics::add_collector(Collector collector) {
  std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
  std::ostringstream out;
  {
    std::shared_lock lock(mu_);
    out << "# HELP scigate_http_requests_total HTTP requests by route, method and status class.\n"
        << "# TYPE scigate_http_requests_total counter\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      out << "scigate_http_requests_total{route=\"" << prometheus_label(route) << "\",method=\"" << method
          << "\",status=\"" << status << "xx\"} " << s.count() << "\n";
    }
    out << "# HELP scigate_http_request_duration_seconds Request latency by route, method and status class.\n"
        << "# TYPE scigate_http_request_duration_seconds histogram\n";
    for (const auto& [key, s] : series_) {
      const auto& [route, method, status] = key;
      s.write(out, "scigate_http_request_duration_seconds",
              "route=\"" + prometheus_label(route) + "\",method=\"" + std::string(method) + "\",status=\"" +
                  std::to_string(status) + "xx\"");
    }
  }
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(collectors_mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) out << c();
  return out.str();
}

}  // namespace scigate
