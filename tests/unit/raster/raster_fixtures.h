// The COG reader's test rasters: written once per test process by
// tests/tools/make_raster_fixtures.py (GDAL, from Debian's gdal-bin/python3-gdal), next
// to what GDAL itself reads from them (values, masks, gdalinfo -json).
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace scigate::testing {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The folder with the rasters; generated on first use.
inline const std::filesystem::path& raster_fixtures() {
  static TempDir dir;
  static const bool made = [] {
    std::string cmd = std::string("/usr/bin/python3 ") + SCIGATE_RASTER_FIXTURE_SCRIPT + " '" + dir.path().string() +
                      "' > '" + (dir.path() / "generate.log").string() + "' 2>&1";
    return std::system(cmd.c_str()) == 0;
  }();
  EXPECT_TRUE(made) << read_file(dir.path() / "generate.log");
  return dir.path();
}

// What make_raster_fixtures.py writes (its index.json must say the same).
inline const std::vector<std::string>& raster_fixture_names() {
  static const std::vector<std::string> kNames{
      "big_endian",         "bigtiff",     "custom_crs",    "f32_nan",  "f64_pred3",
      "gtiff_mask",         "lzw_pred2",   "noise_none",    "one_bit",  "overviews_lzw",
      "pixel_is_point",     "rgb_deflate", "rgb_jpeg",      "rgb_mask", "rgb_webp",
      "rgba_alpha",         "separate",    "single_strip",  "sparse",   "stripped",
      "stripped_lzw_pred2", "u32_none",    "utm_u16_nodata"};
  return kNames;
}

template <typename T>
std::vector<T> read_array(const std::filesystem::path& path) {
  std::string bytes = read_file(path);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace scigate::testing
