// Colormaps: endpoints and known entries of the named maps (matplotlib's published
// colours), JSON colormaps in their three forms, and how they color an image.
#include <gtest/gtest.h>

#include <algorithm>

#include "raster/colormap.h"

namespace scigate::raster {
namespace {

Rgba entry(const char* name, int i) {
  auto cm = named_colormap(name);
  EXPECT_TRUE(cm.ok()) << name;
  return cm->lut[i];
}

TEST(Colormap, KnownEndpoints) {
  EXPECT_EQ(entry("viridis", 0), (Rgba{68, 1, 84, 255}));       // #440154
  EXPECT_EQ(entry("viridis", 255), (Rgba{253, 231, 37, 255}));  // #fde725
  EXPECT_EQ(entry("magma", 0), (Rgba{0, 0, 4, 255}));
  EXPECT_EQ(entry("magma", 255), (Rgba{252, 253, 191, 255}));    // #fcfdbf
  EXPECT_EQ(entry("inferno", 255), (Rgba{252, 255, 164, 255}));  // #fcffa4
  EXPECT_EQ(entry("plasma", 0), (Rgba{13, 8, 135, 255}));        // #0d0887
  EXPECT_EQ(entry("plasma", 255), (Rgba{240, 249, 33, 255}));    // #f0f921
  EXPECT_EQ(entry("greys", 0), (Rgba{255, 255, 255, 255}));
  EXPECT_EQ(entry("greys", 255), (Rgba{0, 0, 0, 255}));
  EXPECT_EQ(entry("rdylgn", 0), (Rgba{165, 0, 38, 255}));    // ColorBrewer #a50026
  EXPECT_EQ(entry("rdylgn", 255), (Rgba{0, 104, 55, 255}));  // ColorBrewer #006837
  EXPECT_EQ(entry("spectral", 0), (Rgba{158, 1, 66, 255}));  // #9e0142
  EXPECT_EQ(entry("rdbu", 255), (Rgba{5, 48, 97, 255}));     // #053061
  EXPECT_EQ(entry("gray", 0), (Rgba{0, 0, 0, 255}));
  EXPECT_EQ(entry("gray", 128), (Rgba{128, 128, 128, 255}));
  EXPECT_EQ(entry("terrain", 0), (Rgba{51, 51, 153, 255}));  // (0.2, 0.2, 0.6)
  EXPECT_EQ(entry("terrain", 255), (Rgba{255, 255, 255, 255}));
  EXPECT_EQ(entry("jet", 0), (Rgba{0, 0, 128, 255}));
  EXPECT_EQ(entry("jet", 255), (Rgba{128, 0, 0, 255}));
  EXPECT_EQ(entry("viridis_r", 0), entry("viridis", 255));
  // The middle of a diverging ColorBrewer map is its middle class (#ffffbf for RdYlGn).
  const Rgba mid = entry("rdylgn", 128);
  EXPECT_NEAR(mid[0], 255, 2);
  EXPECT_NEAR(mid[1], 255, 2);
  EXPECT_NEAR(mid[2], 191, 3);
}

TEST(Colormap, NamesAndUnknown) {
  const auto names = colormap_names();
  for (const char* n : {"viridis", "magma", "inferno", "plasma", "cividis", "greys", "gray", "rdylgn", "rdbu",
                        "spectral", "terrain", "jet", "turbo", "blues", "ylorrd", "terrain_r"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  auto bad = named_colormap("Viridis");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().client, "Invalid colormap name: Viridis");
}

TEST(Colormap, ParseColor) {
  EXPECT_EQ(*parse_color("#FFF"), (Rgba{255, 255, 255, 255}));
  EXPECT_EQ(*parse_color("#F00A"), (Rgba{255, 0, 0, 170}));
  EXPECT_EQ(*parse_color("#FF0000"), (Rgba{255, 0, 0, 255}));
  EXPECT_EQ(*parse_color("#ff000080"), (Rgba{255, 0, 0, 128}));
  for (const char* bad : {"FFF", "#GG0000", "#12345", "#", ""}) {
    EXPECT_FALSE(parse_color(bad).ok()) << bad;
  }
}

Image one_band(std::vector<double> values) {
  Image image;
  image.width = static_cast<int>(values.size()), image.height = 1;
  image.bands = {std::move(values)};
  image.valid.assign(image.width, 255);
  return image;
}

TEST(Colormap, DiscreteJson) {
  auto cm = parse_colormap(R"({"1": "#FF0000", "2": [0, 255, 0], "3": [0, 0, 255, 100]})");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(cm->kind, ColorMap::Kind::kDiscrete);
  Image image = one_band({1, 2, 3, 4});
  image.valid[1] = 0;
  auto out = apply_colormap(image, *cm);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->bands[0][0], 255);
  EXPECT_EQ(out->valid, (std::vector<uint8_t>{255, 0, 100, 0}));  // masked, partial alpha, no entry
  EXPECT_EQ(out->bands[2][2], 255);
}

TEST(Colormap, IntervalsJson) {
  auto cm = parse_colormap(R"([[[0, 10], "#000000"], [[10, 20], [255, 255, 255, 255]]])");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(cm->kind, ColorMap::Kind::kIntervals);
  auto out = apply_colormap(one_band({5, 10, 19.5, 20}), *cm);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->bands[0], (std::vector<double>{0, 255, 255, 0}));
  EXPECT_EQ(out->valid, (std::vector<uint8_t>{255, 255, 255, 0}));  // 20: max is exclusive
}

TEST(Colormap, FullTableJsonIsALookupTableAndValuesWrapAsUint8) {
  std::string json = "{";
  for (int i = 0; i < 256; ++i)
    json += (i ? "," : "") + ("\"" + std::to_string(i) + "\": [" + std::to_string(i) + ",0,0]");
  json += "}";
  auto cm = parse_colormap(json);
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(cm->kind, ColorMap::Kind::kLut);
  auto out = apply_colormap(one_band({300, 7.9}), *cm);  // numpy astype(uint8): 300 -> 44, 7.9 -> 7
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->bands[0], (std::vector<double>{44, 7}));
}

TEST(Colormap, Errors) {
  EXPECT_EQ(parse_colormap("{not json").error().client, "Could not parse the colormap value.");
  EXPECT_FALSE(parse_colormap(R"({"a": "#FFF"})").ok());
  EXPECT_FALSE(parse_colormap(R"({"1": [300, 0, 0]})").ok());
  EXPECT_FALSE(parse_colormap(R"([[0, "#FFF"]])").ok());
  Image two = one_band({1});
  two.bands.push_back({2});
  EXPECT_EQ(apply_colormap(two, *named_colormap("viridis")).error().client, "Source data must be 1 band");
}

}  // namespace
}  // namespace scigate::raster
