// Request metrics in Prometheus text format: per (route, method, status) a counter and a
// latency histogram. Methods outside GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS are
// counted as "other", so that clients cannot add series. Other components add their own
// lines through collectors called at scrape time. Thread-safe.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace scigate {

class Metrics {
 public:
  using Collector = std::function<std::string()>;  // returns complete exposition lines

  void observe(const std::string& route, const std::string& method, int status, double seconds);
  void add_collector(Collector collector);
  std::string render() const;

 private:
  static constexpr std::array<double, 13> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  10};
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
  std::vector<Collector> collectors_;
};

// Escapes a Prometheus label value.
std::string prometheus_label(const std::string& value);

}  // namespace scigate
