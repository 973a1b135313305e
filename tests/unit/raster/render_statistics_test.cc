// Statistics as rio-tiler computes them: known values on a small band, and the histogram
// and moments against numpy (python3-numpy) on random data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "raster/statistics.h"
#include "temp_dir.h"

namespace scigate::raster {
namespace {

double num(const boost::json::object& o, const char* key) { return o.at(key).to_number<double>(); }

Image band_of(std::vector<double> values, std::vector<uint8_t> valid) {
  Image image;
  image.width = static_cast<int>(values.size()), image.height = 1, image.type = DataType::kFloat32;
  image.bands = {std::move(values)};
  image.valid = std::move(valid);
  return image;
}

TEST(Statistics, KnownValues) {
  std::vector<double> values;
  for (int i = 0; i < 100; ++i) values.push_back(i);
  values.push_back(1000);  // masked
  values.push_back(std::nan(""));
  std::vector<uint8_t> valid(102, 255);
  valid[100] = 0;
  const auto stats = statistics_json(band_of(values, valid), {"b1"}, {"elevation"}, {});
  const auto& s = stats.at("b1").as_object();
  EXPECT_EQ(num(s, "min"), 0);
  EXPECT_EQ(num(s, "max"), 99);
  EXPECT_DOUBLE_EQ(num(s, "mean"), 49.5);
  EXPECT_EQ(num(s, "count"), 100);
  EXPECT_EQ(num(s, "sum"), 4950);
  EXPECT_NEAR(num(s, "std"), std::sqrt((100.0 * 100 - 1) / 12), 1e-12);
  EXPECT_EQ(num(s, "median"), 49);
  EXPECT_EQ(num(s, "percentile_2"), 1);
  EXPECT_EQ(num(s, "percentile_98"), 97);
  EXPECT_EQ(num(s, "majority"), 0);
  EXPECT_EQ(num(s, "minority"), 0);
  EXPECT_EQ(num(s, "unique"), 100);
  EXPECT_EQ(num(s, "valid_pixels"), 100);
  EXPECT_EQ(num(s, "masked_pixels"), 2);  // the masked pixel and the NaN
  EXPECT_DOUBLE_EQ(num(s, "valid_percent"), 98.04);
  EXPECT_EQ(s.at("description").as_string(), "elevation");
  const auto& h = s.at("histogram").as_array();
  for (const auto& c : h[0].as_array()) EXPECT_EQ(c.as_int64(), 10);
  EXPECT_EQ(h[1].as_array().size(), 11u);
  EXPECT_DOUBLE_EQ(h[1].as_array()[10].to_number<double>(), 99);
}

TEST(Statistics, OptionsAndCategories) {
  const Image image = band_of({1, 1, 2, 3, 3, 3}, std::vector<uint8_t>(6, 255));
  StatisticsOptions options;
  options.percentiles = {50, 90};
  ASSERT_TRUE(parse_histogram_bins("0,2,4", options).ok());
  auto s = statistics_json(image, {"b1"}, {"b1"}, options).at("b1").as_object();
  EXPECT_EQ(num(s, "percentile_50"), 2);
  EXPECT_EQ(num(s, "percentile_90"), 3);
  EXPECT_FALSE(s.contains("percentile_2"));
  EXPECT_EQ(num(s, "majority"), 3);
  EXPECT_EQ(num(s, "minority"), 2);
  const auto& h = s.at("histogram").as_array();
  EXPECT_EQ(h[0].as_array()[0].as_int64(), 2);  // [0, 2): 1, 1
  EXPECT_EQ(h[0].as_array()[1].as_int64(), 4);  // [2, 4]: 2, 3, 3, 3
  StatisticsOptions ranged;
  ASSERT_TRUE(parse_histogram_bins("2", ranged).ok());
  ASSERT_TRUE(parse_histogram_range("1,2", ranged).ok());
  auto r = statistics_json(image, {"b1"}, {"b1"}, ranged).at("b1").as_object();
  EXPECT_EQ(r.at("histogram").as_array()[0].as_array()[0].as_int64(), 2);
  EXPECT_EQ(r.at("histogram").as_array()[0].as_array()[1].as_int64(), 1);  // 3s are outside
  StatisticsOptions categorical;
  categorical.categorical = true;
  categorical.categories = {3, 5};
  auto c = statistics_json(image, {"b1"}, {"b1"}, categorical).at("b1").as_object();
  EXPECT_EQ(c.at("histogram").as_array()[0].as_array()[0].as_int64(), 3);
  EXPECT_EQ(c.at("histogram").as_array()[0].as_array()[1].as_int64(), 0);
  StatisticsOptions bad;
  EXPECT_FALSE(parse_histogram_bins("0", bad).ok());
  EXPECT_FALSE(parse_histogram_bins("5,1", bad).ok());
  EXPECT_FALSE(parse_histogram_range("1", bad).ok());
  EXPECT_FALSE(parse_histogram_range("3,1", bad).ok());
}

TEST(Statistics, NoValidPixelGivesNulls) {
  const auto s = statistics_json(band_of({1, 2}, {0, 0}), {"b1"}, {"b1"}, {}).at("b1").as_object();
  EXPECT_TRUE(s.at("min").is_null());
  EXPECT_TRUE(s.at("mean").is_null());
  EXPECT_EQ(num(s, "count"), 0);
  EXPECT_EQ(num(s, "valid_percent"), 0);
}

TEST(Statistics, HistogramAndMomentsMatchNumpy) {
  scigate::testing::TempDir dir;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(100, 15);
  std::vector<double> values(10007);
  for (double& v : values) v = normal(rng);
  {
    std::ofstream out(dir.path() / "values.f64", std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  }
  const std::string script =
      "import numpy,sys; a=numpy.fromfile(sys.argv[1]); c,e=numpy.histogram(a,bins=13); "
      "print(' '.join(map(repr,list(c)+list(e)+[a.mean(),a.std(),a.sum()])))";
  const std::string cmd = "/usr/bin/python3 -c \"" + script + "\" " + (dir.path() / "values.f64").string();
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<double> ref;
  double x;
  while (fscanf(pipe, "%lf", &x) == 1) ref.push_back(x);
  ASSERT_EQ(pclose(pipe), 0);
  ASSERT_EQ(ref.size(), 13u + 14u + 3u);
  StatisticsOptions options;
  options.bins = 13;
  const auto s = statistics_json(band_of(values, std::vector<uint8_t>(values.size(), 255)), {"b1"}, {"b1"}, options)
                     .at("b1")
                     .as_object();
  const auto& h = s.at("histogram").as_array();
  for (size_t i = 0; i < 13; ++i) EXPECT_EQ(h[0].as_array()[i].as_int64(), ref[i]) << i;
  for (size_t i = 0; i < 14; ++i) EXPECT_DOUBLE_EQ(h[1].as_array()[i].to_number<double>(), ref[13 + i]) << i;
  EXPECT_NEAR(num(s, "mean"), ref[27], 1e-9);
  EXPECT_NEAR(num(s, "std"), ref[28], 1e-9);
  EXPECT_NEAR(num(s, "sum"), ref[29], 1e-6);
}

}  // namespace
}  // namespace scigate::raster
