#include "raster/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace scigate::raster {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

boost::json::value number(double v) { return std::isfinite(v) ? boost::json::value(v) : boost::json::value(nullptr); }

Result<double> parse_double(std::string_view s) {
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return Error::bad_request("not a number: " + text);
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// numpy.linspace(first, last, n + 1), last edge exact.
std::vector<double> linspace_edges(double first, double last, int n) {
  std::vector<double> edges(n + 1);
  const double step = (last - first) / n;
  for (int i = 0; i <= n; ++i) edges[i] = first + i * step;
  edges[n] = last;
  return edges;
}

// numpy.histogram with equal bins: the index from the value, then corrected against the
// edges as numpy does, the last bin closed on the right.
std::vector<int64_t> uniform_counts(const std::vector<double>& values, const std::vector<double>& edges) {
  const int n = static_cast<int>(edges.size()) - 1;
  const double first = edges.front(), last = edges.back(), norm = n / (last - first);
  std::vector<int64_t> counts(n, 0);
  for (double v : values) {
    if (v < first || v > last) continue;
    int i = static_cast<int>((v - first) * norm);
    if (i == n) --i;
    if (v < edges[i]) --i;
    if (i != n - 1 && v >= edges[i + 1]) ++i;
    ++counts[std::clamp(i, 0, n - 1)];
  }
  return counts;
}

// numpy.histogram with explicit edges: [e_i, e_i+1), the last closed.
std::vector<int64_t> edge_counts(const std::vector<double>& values, const std::vector<double>& edges) {
  std::vector<int64_t> counts(edges.size() - 1, 0);
  for (double v : values) {
    if (v < edges.front() || v > edges.back()) continue;
    size_t i = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin();
    i = std::min(i, edges.size() - 1);
    ++counts[i - 1];
  }
  return counts;
}

boost::json::array histogram(const std::vector<double>& sorted, const StatisticsOptions& o) {
  std::vector<double> edges;
  std::vector<int64_t> counts;
  if (!o.bin_edges.empty()) {
    edges = o.bin_edges;
    counts = edge_counts(sorted, edges);
  } else {
    double first = 0, last = 1;
    if (o.range) {
      first = o.range->first, last = o.range->second;
    } else if (!sorted.empty()) {
      first = sorted.front(), last = sorted.back();
    }
    if (first == last) first -= 0.5, last += 0.5;
    edges = linspace_edges(first, last, o.bins);
    counts = uniform_counts(sorted, edges);
  }
  boost::json::array c, e;
  for (int64_t k : counts) c.push_back(k);
  for (double x : edges) e.push_back(x);
  return boost::json::array{c, e};
}

boost::json::array categorical_histogram(const std::map<double, int64_t>& counts, const StatisticsOptions& o) {
  boost::json::array c, k;
  if (o.categories.empty()) {
    for (const auto& [value, n] : counts) c.push_back(n), k.push_back(value);
  } else {
    for (double value : o.categories) {
      auto it = counts.find(value);
      c.push_back(it == counts.end() ? 0 : it->second);
      k.push_back(value);
    }
  }
  return boost::json::array{c, k};
}

// rio-tiler's _weighted_quantiles with unit weights: the first sorted value whose
// cumulative count reaches q * n.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double target = q * static_cast<double>(sorted.size());
  const auto i = static_cast<int64_t>(std::ceil(target)) - 1;
  return sorted[std::clamp<int64_t>(i, 0, static_cast<int64_t>(sorted.size()) - 1)];
}

boost::json::object band_statistics(const std::vector<double>& band, const std::vector<uint8_t>& valid,
                                    const std::string& description, const StatisticsOptions& o) {
  std::vector<double> values;
  values.reserve(band.size());
  for (size_t i = 0; i < band.size(); ++i) {
    if (valid[i] && std::isfinite(band[i])) values.push_back(band[i]);
  }
  std::sort(values.begin(), values.end());
  std::map<double, int64_t> counts;
  double sum = 0;
  for (double v : values) ++counts[v], sum += v;
  const double n = static_cast<double>(values.size());
  const double mean = values.empty() ? kNaN : sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  // numpy's argmax / argmin over the sorted unique values: ties go to the smallest value.
  double majority = kNaN, minority = kNaN;
  int64_t most = -1, least = std::numeric_limits<int64_t>::max();
  for (const auto& [value, k] : counts) {
    if (k > most) most = k, majority = value;
    if (k < least) least = k, minority = value;
  }
  const double total = static_cast<double>(band.size());
  boost::json::object s{
      {"min", number(values.empty() ? kNaN : values.front())},
      {"max", number(values.empty() ? kNaN : values.back())},
      {"mean", number(mean)},
      {"count", n},
      {"sum", sum},
      {"std", number(values.empty() ? kNaN : std::sqrt(squares / n))},
      {"median", number(quantile(values, 0.5))},
      {"majority", number(majority)},
      {"minority", number(minority)},
      {"unique", static_cast<double>(counts.size())},
      {"histogram", o.categorical ? categorical_histogram(counts, o) : histogram(values, o)},
      {"valid_percent", total > 0 ? std::round(std::min(n / total, 1.0) * 100 * 100) / 100 : 0.0},
      {"masked_pixels", total - n},
      {"valid_pixels", n},
      {"description", description},
  };
  for (int p : o.percentiles) s["percentile_" + std::to_string(p)] = number(quantile(values, p / 100.0));
  return s;
}

}  // namespace

Status parse_histogram_bins(std::string_view text, StatisticsOptions& options) {
  const auto parts = split(text, ',');
  if (parts.size() == 1) {
    auto v = parse_double(parts[0]);
    if (!v || *v < 1 || *v != std::floor(*v) || *v > 100000) {
      return Error::bad_request("histogram_bins must be a positive integer or comma-separated edges");
    }
    options.bins = static_cast<int>(*v);
    options.bin_edges.clear();
    return ok_status();
  }
  std::vector<double> edges;
  for (auto part : parts) {
    auto v = parse_double(part);
    if (!v) return Error::bad_request("histogram_bins must be a positive integer or comma-separated edges");
    if (!edges.empty() && *v < edges.back()) return Error::bad_request("histogram_bins edges must increase");
    edges.push_back(*v);
  }
  options.bin_edges = std::move(edges);
  return ok_status();
}

Status parse_histogram_range(std::string_view text, StatisticsOptions& options) {
  const auto parts = split(text, ',');
  if (parts.size() != 2) return Error::bad_request("Invalid histogram_range values: should be of form 'min,max'");
  auto lo = parse_double(parts[0]);
  auto hi = parse_double(parts[1]);
  if (!lo || !hi) return Error::bad_request("Invalid histogram_range values: should be of form 'min,max'");
  if (*lo > *hi) return Error::bad_request("max must be larger than min in histogram_range");
  options.range = std::pair{*lo, *hi};
  return ok_status();
}

boost::json::object statistics_json(const Image& image, const std::vector<std::string>& band_names,
                                    const std::vector<std::string>& descriptions, const StatisticsOptions& options) {
  boost::json::object out;
  for (size_t b = 0; b < image.bands.size(); ++b) {
    const std::string name = b < band_names.size() ? band_names[b] : "b" + std::to_string(b + 1);
    const std::string description = b < descriptions.size() ? descriptions[b] : name;
    out[name] = band_statistics(image.bands[b], image.valid, description, options);
  }
  return out;
}

}  // namespace scigate::raster
