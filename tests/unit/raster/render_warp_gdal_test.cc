// The warp against an independent renderer: gdalwarp (gdal-bin 3.6) renders the same Web
// Mercator tiles from the same synthetic GeoTIFFs (built by gdal_reference.py with
// python3-gdal), statistics come from gdalinfo -stats and point values from
// gdallocationinfo. The rasters' pixels reach scigate's warp through a MemoryRaster loaded
// from GDAL's own reads of each level, so only the warp is compared.
//
// Agreement asked (each case, over all its tiles, gdalwarp's default -et 0.125):
//   nearest:  at most 0.25% of pixels differ (value or validity);
//   bilinear: at most 0.05% of pixels differ in validity, and the mean absolute
//             difference over pixels both call valid is below 0.05 (in data units; the
//             data spans 0..255, 0..2600 or -50..50).
// Measured (see the [gdal] lines the test prints): the geographic cases are identical
// pixel for pixel; the UTM case differs on 0.14% (nearest) because gdalwarp splits a
// partially covered tile into chunks, whose rows it approximates separately. With exact
// transforms on both sides (-et 0, max_error 0) the UTM case is identical too.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fakes/memory_raster.h"
#include "raster/documents.h"
#include "raster/statistics.h"
#include "raster/tms.h"
#include "raster/warp.h"
#include "temp_dir.h"

namespace scigate::raster {
namespace {

namespace json = boost::json;
using testing::MemoryRaster;

template <typename T>
std::vector<T> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

DataType parse_type(std::string_view name) {
  if (name == "uint16") return DataType::kUInt16;
  if (name == "float32") return DataType::kFloat32;
  return DataType::kUInt8;
}

std::optional<double> nodata_of(const json::value& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return std::nan("");
  return v.to_number<double>();
}

struct Diff {
  int64_t pixels = 0, valid_mismatch = 0, value_mismatch = 0, both_valid = 0;
  double abs_sum = 0, max_abs = 0;
};

class GdalReferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new scigate::testing::TempDir();
    const std::string cmd = "/usr/bin/python3 " SCIGATE_RASTER_TEST_DIR "/gdal_reference.py " + dir_->path().string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(dir_->path() / "manifest.json");
    std::stringstream text;
    text << in.rdbuf();
    manifest_ = new json::value(json::parse(text.str()));
  }
  static void TearDownTestSuite() {
    delete manifest_;
    delete dir_;
  }

  static const json::object& find_case(std::string_view name) {
    for (const auto& c : manifest_->at("cases").as_array()) {
      if (c.at("name").as_string() == name) return c.as_object();
    }
    throw std::runtime_error("no case");
  }

  static MemoryRaster load(const json::object& c) {
    RasterInfo info;
    const auto& gt = c.at("geotransform").as_array();
    for (size_t i = 0; i < 6; ++i) info.transform[i] = gt[i].to_number<double>();
    const int epsg = static_cast<int>(c.at("epsg").as_int64());
    info.crs = Crs{epsg, "EPSG:" + std::to_string(epsg)};
    info.type = parse_type(c.at("dtype").as_string());
    info.nodata = nodata_of(c.at("nodata"));
    const int bands = static_cast<int>(c.at("bands").as_int64());
    std::vector<MemoryRaster::LevelData> levels;
    for (const auto& l : c.at("levels").as_array()) {
      MemoryRaster::LevelData level;
      level.width = static_cast<int>(l.at("width").as_int64());
      level.height = static_cast<int>(l.at("height").as_int64());
      const auto data = read_raw<double>(dir_->path() / std::string(l.at("data").as_string()));
      const size_t n = static_cast<size_t>(level.width) * level.height;
      for (int b = 0; b < bands; ++b) level.bands.emplace_back(data.begin() + b * n, data.begin() + (b + 1) * n);
      if (c.at("has_mask").as_bool())
        level.mask = read_raw<uint8_t>(dir_->path() / std::string(l.at("mask").as_string()));
      levels.push_back(std::move(level));
    }
    return MemoryRaster(info, std::move(levels));
  }

  // Compares every tile of the case rendered with `method` ("near" or "bilinear").
  static Diff compare_tiles(const json::object& c, const std::string& method, double max_error = 0.125) {
    MemoryRaster raster = load(c);
    const TileMatrixSet& tms = *find_tile_matrix_set("WebMercatorQuad");
    Diff d;
    for (const auto& t : c.at("tiles").as_array()) {
      if (t.at("method").as_string() != method || t.at("max_error").to_number<double>() != max_error) continue;
      const Tile tile{t.at("x").as_int64(), t.at("y").as_int64(), static_cast<int>(t.at("z").as_int64())};
      auto grid = tile_grid(tms, tile);
      EXPECT_TRUE(grid.ok());
      // The TMS's tile bounds agree with the Web Mercator formulas of the reference.
      const auto& b = t.at("bounds").as_array();
      EXPECT_NEAR(grid->bounds.left, b[0].to_number<double>(), 1e-6);
      EXPECT_NEAR(grid->bounds.top, b[3].to_number<double>(), 1e-6);
      ReadOptions options;
      options.reproject = method == "near" ? Resampling::kNearest : Resampling::kBilinear;
      options.max_error = max_error;
      auto image = warp(raster, *grid, options);
      EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().internal);
      if (!image.ok()) continue;
      const auto ref = read_raw<double>(dir_->path() / std::string(t.at("data").as_string()));
      const auto alpha = read_raw<uint8_t>(dir_->path() / std::string(t.at("alpha").as_string()));
      Diff one;
      accumulate(*image, ref, alpha, one);
      if (std::getenv("GDAL_TEST_VERBOSE")) {
        std::cout << "  tile " << tile.z << "/" << tile.x << "/" << tile.y << " " << method << ": "
                  << one.value_mismatch << " values, " << one.valid_mismatch << " validity, mean "
                  << (one.both_valid ? one.abs_sum / one.both_valid : 0) << " max " << one.max_abs << "\n";
      }
      accumulate(*image, ref, alpha, d);
    }
    return d;
  }

  static void accumulate(const Image& ours, const std::vector<double>& ref, const std::vector<uint8_t>& alpha,
                         Diff& d) {
    const size_t n = static_cast<size_t>(ours.width) * ours.height;
    for (size_t i = 0; i < n; ++i) {
      ++d.pixels;
      const bool a = ours.valid[i] != 0, b = alpha[i] != 0;
      if (a != b) {
        ++d.valid_mismatch;
        continue;
      }
      if (!a) continue;
      ++d.both_valid;
      bool differs = false;
      for (size_t band = 0; band < ours.bands.size(); ++band) {
        const double diff = std::abs(ours.bands[band][i] - ref[band * n + i]);
        differs = differs || diff > 1e-4;
        d.abs_sum += diff / ours.bands.size();
        d.max_abs = std::max(d.max_abs, diff);
      }
      if (differs) ++d.value_mismatch;
    }
  }

  static void check_case(const std::string& name) {
    const json::object& c = find_case(name);
    const Diff near = compare_tiles(c, "near");
    const Diff bilinear = compare_tiles(c, "bilinear");
    const double near_frac = double(near.valid_mismatch + near.value_mismatch) / near.pixels;
    const double bil_valid_frac = double(bilinear.valid_mismatch) / bilinear.pixels;
    const double bil_mean = bilinear.both_valid ? bilinear.abs_sum / bilinear.both_valid : 0;
    std::cout << "[gdal] " << name << ": nearest " << near.pixels << " px, " << near.value_mismatch << " values and "
              << near.valid_mismatch << " validity differ (" << 100 * near_frac << "%); bilinear validity differs on "
              << 100 * bil_valid_frac << "%, mean |diff| " << bil_mean << ", max |diff| " << bilinear.max_abs << "\n";
    EXPECT_GT(near.both_valid, 0);
    EXPECT_LE(near_frac, 0.0025) << name;
    EXPECT_LE(bil_valid_frac, 0.0005) << name;
    EXPECT_LT(bil_mean, 0.05) << name;
  }

  static scigate::testing::TempDir* dir_;
  static json::value* manifest_;
};

scigate::testing::TempDir* GdalReferenceTest::dir_ = nullptr;
json::value* GdalReferenceTest::manifest_ = nullptr;

TEST_F(GdalReferenceTest, RgbInGeographicCrs) { check_case("rgb4326"); }
TEST_F(GdalReferenceTest, Uint16InUtmWithNodata) { check_case("utm16"); }
TEST_F(GdalReferenceTest, Float32WithNaN) { check_case("float_nan"); }
TEST_F(GdalReferenceTest, CrossingTheAntimeridianBothSides) { check_case("antimeridian"); }
TEST_F(GdalReferenceTest, OverviewsChosenByResolution) { check_case("overviews"); }
TEST_F(GdalReferenceTest, InternalMask) { check_case("masked"); }

TEST_F(GdalReferenceTest, ExactTransformsAreIdenticalInUtm) {
  const json::object& c = find_case("utm16");
  const Diff near = compare_tiles(c, "near", 0.0);
  const Diff bilinear = compare_tiles(c, "bilinear", 0.0);
  EXPECT_GT(near.both_valid, 100000);
  EXPECT_EQ(near.value_mismatch + near.valid_mismatch, 0);
  EXPECT_EQ(bilinear.valid_mismatch, 0);
  // Rounding of exact halves (x.5) may go either way.
  EXPECT_LE(bilinear.max_abs, 1.0);
  EXPECT_LT(bilinear.abs_sum / bilinear.both_valid, 0.001);
}

TEST_F(GdalReferenceTest, NaturalResolutionMatchesRasterio) {
  for (const auto& c : manifest_->at("cases").as_array()) {
    if (c.at("name").as_string() == "antimeridian") continue;  // rasterio's wraps across the world
    MemoryRaster raster = load(c.as_object());
    auto natural = natural_grid(raster.info(), Crs{3857, "EPSG:3857"});
    ASSERT_TRUE(natural.ok());
    EXPECT_NEAR(natural->resolution / c.at("natural_resolution_3857").to_number<double>(), 1.0, 1e-6)
        << c.at("name").as_string();
  }
}

TEST_F(GdalReferenceTest, StatisticsMatchGdalinfo) {
  for (const auto& c : manifest_->at("cases").as_array()) {
    if (!c.as_object().contains("stats")) continue;
    MemoryRaster raster = load(c.as_object());
    auto grid = preview_grid(raster.info(), {});
    ASSERT_TRUE(grid.ok());
    ASSERT_EQ(grid->width, raster.info().width);  // below max_size: the full raster
    auto image = warp(raster, *grid, {});
    ASSERT_TRUE(image.ok());
    std::vector<int> bands;
    for (int b = 1; b <= raster.info().band_count; ++b) bands.push_back(b);
    const auto stats = statistics_json(*image, band_names(bands), band_descriptions(raster.info(), bands), {});
    const auto& ref = c.at("stats").as_array();
    for (size_t b = 0; b < ref.size(); ++b) {
      const auto& s = stats.at("b" + std::to_string(b + 1)).as_object();
      const auto& r = ref[b].as_object();
      const auto near = [](const json::value& ours, const json::value& theirs) {
        const double a = ours.to_number<double>(), e = theirs.to_number<double>();
        EXPECT_NEAR(a, e, 1e-9 + 1e-9 * std::abs(e));
      };
      near(s.at("min"), r.at("minimum"));
      near(s.at("max"), r.at("maximum"));
      // gdalinfo prints 14 significant digits.
      EXPECT_NEAR(s.at("mean").to_number<double>(), r.at("mean").to_number<double>(),
                  1e-10 * std::max(1.0, std::abs(r.at("mean").to_number<double>())) + 1e-11);
      EXPECT_NEAR(s.at("std").to_number<double>(), r.at("stddev").to_number<double>(),
                  1e-10 * r.at("stddev").to_number<double>());
    }
  }
}

TEST_F(GdalReferenceTest, PointValuesMatchGdallocationinfo) {
  int compared = 0;
  for (const auto& c : manifest_->at("cases").as_array()) {
    MemoryRaster raster = load(c.as_object());
    const auto nodata = raster.info().nodata;
    for (const auto& p : c.at("points").as_array()) {
      auto values =
          point(raster, p.at("lon").to_number<double>(), p.at("lat").to_number<double>(), Crs{4326, "EPSG:4326"}, {});
      ASSERT_TRUE(values.ok()) << c.at("name").as_string();
      const auto& expected = p.at("values").as_array();
      ASSERT_EQ(values->values.size(), expected.size());
      for (size_t b = 0; b < expected.size(); ++b, ++compared) {
        const bool masked = expected[b].is_null() || (nodata && expected[b].to_number<double>() == *nodata);
        if (masked) {
          EXPECT_FALSE(values->values[b].has_value());
        } else {
          ASSERT_TRUE(values->values[b].has_value());
          EXPECT_NEAR(*values->values[b], expected[b].to_number<double>(), 1e-6);
        }
      }
    }
  }
  EXPECT_GE(compared, 8);
}

}  // namespace
}  // namespace scigate::raster
