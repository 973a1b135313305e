// An in-memory RasterSource for tests: levels of band-sequential arrays (level 0 first,
// then coarser overviews), an optional validity mask per level, nodata and NaN handling
// as the RasterSource contract asks. Counts reads and the largest window read.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <vector>

#include "raster/raster_types.h"

namespace scigate::testing {

class MemoryRaster : public raster::RasterSource {
 public:
  struct LevelData {
    int width = 0;
    int height = 0;
    std::vector<std::vector<double>> bands;  // bands[b][row * width + col]
    std::vector<uint8_t> mask;               // empty: every pixel may hold data
  };

  // `info` describes level 0; its `levels` are filled from `levels`.
  MemoryRaster(raster::RasterInfo info, std::vector<LevelData> levels)
      : info_(std::move(info)), levels_(std::move(levels)) {
    info_.width = levels_.front().width;
    info_.height = levels_.front().height;
    info_.band_count = static_cast<int>(levels_.front().bands.size());
    info_.levels.clear();
    for (const auto& l : levels_) info_.levels.push_back({l.width, l.height, 256, 256});
    info_.has_mask = !levels_.front().mask.empty();
  }

  // One level whose value at (band, col, row) is f(band, col, row).
  static MemoryRaster generated(raster::RasterInfo info, int width, int height, int bands,
                                const std::function<double(int, int, int)>& f) {
    LevelData level{width, height, {}, {}};
    for (int b = 0; b < bands; ++b) {
      std::vector<double> values(static_cast<size_t>(width) * height);
      for (int r = 0; r < height; ++r) {
        for (int c = 0; c < width; ++c) values[static_cast<size_t>(r) * width + c] = f(b, c, r);
      }
      level.bands.push_back(std::move(values));
    }
    return MemoryRaster(std::move(info), {std::move(level)});
  }

  const raster::RasterInfo& info() const override { return info_; }

  Result<raster::Image> read(int level, const raster::Window& w, const std::vector<int>& bands) override {
    if (level < 0 || level >= static_cast<int>(levels_.size())) return Error::bad_request("no such level");
    for (int b : bands) {
      if (b < 1 || b > info_.band_count) return Error::bad_request("no such band");
    }
    reads_++;
    {
      std::lock_guard lock(mu_);
      largest_window_ = std::max<int64_t>(largest_window_, int64_t{w.width} * w.height);
    }
    const LevelData& l = levels_[level];
    raster::Image image;
    image.width = w.width, image.height = w.height, image.type = info_.type;
    const size_t n = static_cast<size_t>(w.width) * w.height;
    image.bands.assign(bands.size(), std::vector<double>(n, 0.0));
    image.valid.assign(n, 0);
    for (int r = 0; r < w.height; ++r) {
      for (int c = 0; c < w.width; ++c) {
        const int col = w.x + c, row = w.y + r;
        if (col < 0 || row < 0 || col >= l.width || row >= l.height) continue;
        const size_t src = static_cast<size_t>(row) * l.width + col, dst = static_cast<size_t>(r) * w.width + c;
        bool all_nodata = true, any_nan = false;
        for (size_t k = 0; k < bands.size(); ++k) {
          const double v = l.bands[bands[k] - 1][src];
          image.bands[k][dst] = v;
          any_nan = any_nan || std::isnan(v);
          all_nodata = all_nodata && info_.nodata && (std::isnan(*info_.nodata) ? std::isnan(v) : v == *info_.nodata);
        }
        const bool masked = !l.mask.empty() && l.mask[src] == 0;
        image.valid[dst] = (masked || any_nan || all_nodata) ? 0 : 255;
      }
    }
    return image;
  }

  int reads() const { return reads_; }
  int64_t largest_window() const {
    std::lock_guard lock(mu_);
    return largest_window_;
  }

 private:
  raster::RasterInfo info_;
  std::vector<LevelData> levels_;
  std::atomic<int> reads_{0};
  mutable std::mutex mu_;
  int64_t largest_window_ = 0;
};

}  // namespace scigate::testing
