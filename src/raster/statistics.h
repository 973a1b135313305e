// rio-tiler's band statistics (the body of /statistics), computed over an Image: per band
// min, max, mean, count, sum, std, median, majority, minority, unique, histogram
// [counts, edges], valid_percent, masked_pixels, valid_pixels, percentile_N. NaN and
// infinite values count as masked (numpy.ma.fix_invalid).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "raster/raster_types.h"

namespace scigate::raster {

struct StatisticsOptions {
  std::vector<int> percentiles{2, 98};             // `p`
  int bins = 10;                                   // `histogram_bins` as a count...
  std::vector<double> bin_edges;                   // ...or as edges (then `bins` is ignored)
  std::optional<std::pair<double, double>> range;  // `histogram_range`
  bool categorical = false;                        // `categorical`: counts per value
  std::vector<double> categories;                  // `c`: the values to count (default: all)
};

// TiTiler's `histogram_bins` ("8" or "0,100,200") and `histogram_range` ("0,1000").
// Failure: kBadRequest.
Status parse_histogram_bins(std::string_view text, StatisticsOptions& options);
Status parse_histogram_range(std::string_view text, StatisticsOptions& options);

// {band_name: {...}} in rio-tiler's field order; `band_names` ("b1", ...) and
// `descriptions` give one entry per image band. NaN results (no valid pixel) are null.
boost::json::object statistics_json(const Image& image, const std::vector<std::string>& band_names,
                                    const std::vector<std::string>& descriptions, const StatisticsOptions& options);

}  // namespace scigate::raster
