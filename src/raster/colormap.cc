#include "raster/colormap.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>

#include "raster/colormap_tables.h"

namespace scigate::raster {
namespace {

// Maps defined by a few anchors, written here from their published definitions (a
// segment list per channel: x, value), interpolated linearly as matplotlib's
// LinearSegmentedColormap does at x = i / 255.
struct Segment {
  double x;
  double v;
};
struct SegmentMap {
  const char* name;
  std::vector<Segment> r, g, b;
};

const std::vector<SegmentMap>& segment_maps() {
  static const std::vector<SegmentMap> maps{
      {"gray", {{0, 0}, {1, 1}}, {{0, 0}, {1, 1}}, {{0, 0}, {1, 1}}},
      {"binary", {{0, 1}, {1, 0}}, {{0, 1}, {1, 0}}, {{0, 1}, {1, 0}}},
      {"cool", {{0, 0}, {1, 1}}, {{0, 1}, {1, 0}}, {{0, 1}, {1, 1}}},
      {"spring", {{0, 1}, {1, 1}}, {{0, 0}, {1, 1}}, {{0, 1}, {1, 0}}},
      {"summer", {{0, 0}, {1, 1}}, {{0, 0.5}, {1, 1}}, {{0, 0.4}, {1, 0.4}}},
      {"autumn", {{0, 1}, {1, 1}}, {{0, 0}, {1, 1}}, {{0, 0}, {1, 0}}},
      {"winter", {{0, 0}, {1, 0}}, {{0, 0}, {1, 1}}, {{0, 1}, {1, 0.5}}},
      // MATLAB's jet.
      {"jet",
       {{0, 0}, {0.35, 0}, {0.66, 1}, {0.89, 1}, {1, 0.5}},
       {{0, 0}, {0.125, 0}, {0.375, 1}, {0.64, 1}, {0.91, 0}, {1, 0}},
       {{0, 0.5}, {0.11, 1}, {0.34, 1}, {0.65, 0}, {1, 0}}},
      // Black body: red, then green, then blue rise to white.
      {"hot",
       {{0, 0.0416}, {0.365079, 1}, {1, 1}},
       {{0, 0}, {0.365079, 0}, {0.746032, 1}, {1, 1}},
       {{0, 0}, {0.746032, 0}, {1, 1}}},
      // Terrain: deep blue, light blue, green, pale yellow, brown, white at 0, .15, .25,
      // .5, .75 and 1.
      {"terrain",
       {{0, 0.2}, {0.15, 0}, {0.25, 0}, {0.5, 1}, {0.75, 0.5}, {1, 1}},
       {{0, 0.2}, {0.15, 0.6}, {0.25, 0.8}, {0.5, 1}, {0.75, 0.36}, {1, 1}},
       {{0, 0.6}, {0.15, 1}, {0.25, 0.4}, {0.5, 0.6}, {0.75, 0.33}, {1, 1}}},
  };
  return maps;
}

double channel_at(const std::vector<Segment>& segments, double x) {
  for (size_t k = 1; k < segments.size(); ++k) {
    if (x <= segments[k].x) {
      const Segment& a = segments[k - 1];
      const Segment& b = segments[k];
      return a.v + (x - a.x) / (b.x - a.x) * (b.v - a.v);
    }
  }
  return segments.back().v;
}

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::clamp(std::round(v * 255), 0.0, 255.0)); }

ColorMap lut_from_segments(const SegmentMap& map) {
  ColorMap cm;
  for (int i = 0; i < 256; ++i) {
    const double x = i / 255.0;
    cm.lut[i] = {to_byte(channel_at(map.r, x)), to_byte(channel_at(map.g, x)), to_byte(channel_at(map.b, x)), 255};
  }
  return cm;
}

const std::map<std::string, ColorMap, std::less<>>& registry() {
  static const auto maps = [] {
    std::map<std::string, ColorMap, std::less<>> all;
    for (const auto& table : generated_colormaps()) {
      ColorMap cm;
      for (int i = 0; i < 256; ++i) cm.lut[i] = {table.lut[i][0], table.lut[i][1], table.lut[i][2], 255};
      all.emplace(table.name, cm);
    }
    for (const auto& map : segment_maps()) all.emplace(map.name, lut_from_segments(map));
    std::vector<std::pair<std::string, ColorMap>> reversed;
    for (const auto& [name, cm] : all) {
      ColorMap r = cm;
      std::reverse(r.lut.begin(), r.lut.end());
      reversed.emplace_back(name + "_r", r);
    }
    all.insert(reversed.begin(), reversed.end());
    return all;
  }();
  return maps;
}

Result<Rgba> color_from_json(const boost::json::value& v) {
  if (v.is_string()) return parse_color(v.as_string());
  if (!v.is_array() || v.as_array().size() < 3 || v.as_array().size() > 4) {
    return Error::bad_request("Invalid color format: " + boost::json::serialize(v));
  }
  Rgba c{0, 0, 0, 255};
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const auto& x = v.as_array()[i];
    if (!x.is_int64() || x.as_int64() < 0 || x.as_int64() > 255) {
      return Error::bad_request("Invalid color format: " + boost::json::serialize(v));
    }
    c[i] = static_cast<uint8_t>(x.as_int64());
  }
  return c;
}

Result<ColorMap> intervals_from_json(const boost::json::array& list) {
  ColorMap cm;
  cm.kind = ColorMap::Kind::kIntervals;
  for (const auto& item : list) {
    const auto* pair = item.if_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_array() || (*pair)[0].as_array().size() != 2) {
      return Error::bad_request("Could not parse the colormap value.");
    }
    const auto& range = (*pair)[0].as_array();
    if (!range[0].is_number() || !range[1].is_number())
      return Error::bad_request("Could not parse the colormap value.");
    auto color = color_from_json((*pair)[1]);
    if (!color) return color.error();
    cm.intervals.push_back({range[0].to_number<double>(), range[1].to_number<double>(), *color});
  }
  return cm;
}

Result<ColorMap> values_from_json(const boost::json::object& object) {
  ColorMap cm;
  std::vector<std::pair<double, Rgba>> entries;
  for (const auto& [key, value] : object) {
    const std::string k(key);
    char* end = nullptr;
    const double number = std::strtod(k.c_str(), &end);
    if (k.empty() || end != k.c_str() + k.size()) return Error::bad_request("Could not parse the colormap value.");
    auto color = color_from_json(value);
    if (!color) return color.error();
    entries.emplace_back(number, *color);
  }
  // rio-tiler builds a lookup table only from exactly 256 integer keys within 0..255.
  const bool lut = entries.size() == 256 && std::all_of(entries.begin(), entries.end(), [](const auto& e) {
                     return e.first >= 0 && e.first <= 255 && e.first == std::floor(e.first);
                   });
  if (lut) {
    for (const auto& [k, c] : entries) cm.lut[static_cast<int>(k)] = c;
    return cm;
  }
  cm.kind = ColorMap::Kind::kDiscrete;
  cm.discrete = std::move(entries);
  return cm;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// numpy's astype(uint8) of the value (wrapping modulo 256 after truncation).
uint8_t as_uint8(double v) {
  if (!std::isfinite(v)) return 0;
  return static_cast<uint8_t>(static_cast<int64_t>(v) & 0xFF);
}

Rgba lookup(const ColorMap& cm, double v) {
  switch (cm.kind) {
    case ColorMap::Kind::kLut:
      return cm.lut[as_uint8(v)];
    case ColorMap::Kind::kDiscrete: {
      // rio-tiler assigns in order, so a later duplicate key wins.
      Rgba found{0, 0, 0, 0};
      for (const auto& [k, c] : cm.discrete) {
        if (v == k) found = c;
      }
      return found;
    }
    case ColorMap::Kind::kIntervals: {
      Rgba found{0, 0, 0, 0};
      for (const auto& i : cm.intervals) {
        if (v >= i.min && v < i.max) found = i.color;
      }
      return found;
    }
  }
  return {0, 0, 0, 0};
}

}  // namespace

Result<ColorMap> named_colormap(std::string_view name) {
  const auto& maps = registry();
  auto it = maps.find(name);
  if (it == maps.end()) return Error::bad_request("Invalid colormap name: " + std::string(name));
  return it->second;
}

std::vector<std::string> colormap_names() {
  std::vector<std::string> names;
  for (const auto& [name, cm] : registry()) names.push_back(name);
  return names;
}

Result<Rgba> parse_color(std::string_view hex) {
  const auto bad = [&] { return Error::bad_request("Invalid color format: " + std::string(hex)); };
  if (hex.empty() || hex[0] != '#') return bad();
  const std::string_view digits = hex.substr(1);
  const bool short_form = digits.size() == 3 || digits.size() == 4;
  const bool long_form = digits.size() == 6 || digits.size() == 8;
  if (!short_form && !long_form) return bad();
  Rgba c{0, 0, 0, 255};
  const size_t width = short_form ? 1 : 2;
  for (size_t i = 0; i * width < digits.size(); ++i) {
    int value = 0;
    for (size_t j = 0; j < width; ++j) {
      const int d = hex_digit(digits[i * width + j]);
      if (d < 0) return bad();
      value = value * 16 + d;
    }
    c[i] = static_cast<uint8_t>(short_form ? value * 17 : value);  // "#F" means "#FF"
  }
  return c;
}

Result<ColorMap> parse_colormap(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(json, ec);
  if (ec) return Error::bad_request("Could not parse the colormap value.");
  if (v.is_object()) return values_from_json(v.as_object());
  if (v.is_array()) return intervals_from_json(v.as_array());
  return Error::bad_request("Could not parse the colormap value.");
}

ColorMap palette_colormap(const std::vector<Rgba>& palette) {
  ColorMap map;  // a lookup table: palettes have at most 256 entries (cog_header.cc)
  std::copy_n(palette.begin(), std::min<size_t>(palette.size(), map.lut.size()), map.lut.begin());
  return map;
}

Result<Image> apply_colormap(const Image& image, const ColorMap& colormap) {
  if (image.bands.size() != 1) return Error::bad_request("Source data must be 1 band");
  Image out;
  out.width = image.width, out.height = image.height, out.type = DataType::kUInt8;
  const size_t n = static_cast<size_t>(image.width) * image.height;
  out.bands.assign(3, std::vector<double>(n));
  out.valid.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Rgba c = lookup(colormap, image.bands[0][i]);
    for (int k = 0; k < 3; ++k) out.bands[k][i] = c[k];
    out.valid[i] = image.valid[i] ? c[3] : 0;
  }
  return out;
}

}  // namespace scigate::raster
