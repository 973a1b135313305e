// Request metrics in Prometheus text format: per (route, method, status class) a counter
// and a latency histogram. Other components (the server's connection counts, credentials,
// engines, the tiler) add their own lines through collectors called at scrape time.
// Thread-safe.
//
// Every label comes from a bounded set, so no request can add a series: routes are the
// router's patterns (plus "unmatched" and "preflight"), methods the few scigate knows
// (anything else is "other"), statuses their class ("2xx").
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace scigate {

// A latency histogram in seconds with Prometheus' cumulative buckets, updated with atomics
// so that observers never wait for each other.
class Histogram {
 public:
  static constexpr std::array<double, 13> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  10};
  void observe(double seconds);
  // The _bucket, _sum and _count lines of metric `name` with `labels` ("a=\"x\"" or "").
  void write(std::ostream& out, std::string_view name, std::string_view labels) const;
  uint64_t count() const { return count_.load(); }

 private:
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
  std::array<std::atomic<uint64_t>, kBuckets.size()> buckets_{};
};

class Metrics {
 public:
  using Collector = std::function<std::string()>;  // returns complete exposition lines

  void observe(std::string_view route, std::string_view method, int status, double seconds);
  void add_collector(Collector collector);
  std::string render() const;

 private:
  // Found under a shared lock, then updated with atomics: the two I/O threads never wait
  // for each other to count a request (a plain mutex here cost a futex call per request).
  using Series = Histogram;
  Series& series_for(std::string_view route, std::string_view method, int status_class);

  mutable std::shared_mutex mu_;  // guards the map's shape; a series' counters are atomics
  // Transparent: observe() looks a series up by string_views, without building a key.
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::tuple<std::string_view, std::string_view, int>(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
             std::tuple<std::string_view, std::string_view, int>(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    }
  };
  std::map<std::tuple<std::string, std::string_view, int>, Series, KeyLess> series_;
  mutable std::mutex collectors_mu_;
  std::vector<Collector> collectors_;
};

// The methods scigate serves; a request with any other method is refused (501) before
// it reaches per-request state.
bool is_known_method(std::string_view method);

// Escapes a Prometheus label value.
std::string prometheus_label(const std::string& value);

}  // namespace scigate
