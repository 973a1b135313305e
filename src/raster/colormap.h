// Colormaps as rio-tiler applies them: a named map (`colormap_name`, 256 entries indexed
// by the uint8 value) or a JSON one (`colormap`): {"value": color} (a lookup table when it
// has exactly the keys 0..255, otherwise discrete values), or intervals
// [[[min, max], color], ...] (min inclusive, max exclusive). Colors are "#RGB", "#RGBA",
// "#RRGGBB", "#RRGGBBAA" or [r, g, b(, a)].
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "raster/raster_types.h"

namespace scigate::raster {

using Rgba = std::array<uint8_t, 4>;

struct ColorMap {
  enum class Kind { kLut, kDiscrete, kIntervals };
  struct Interval {
    double min = 0;
    double max = 0;
    Rgba color{};
  };
  Kind kind = Kind::kLut;
  std::array<Rgba, 256> lut{};                    // kLut
  std::vector<std::pair<double, Rgba>> discrete;  // kDiscrete
  std::vector<Interval> intervals;                // kIntervals
};

// rio-tiler's lower-case names, each also reversed with "_r". Failure: kBadRequest.
Result<ColorMap> named_colormap(std::string_view name);
std::vector<std::string> colormap_names();

// A file's own palette (RasterInfo::palette) as a map: what TiTiler applies to a
// paletted image when the request names no colormap.
ColorMap palette_colormap(const std::vector<Rgba>& palette);

// TiTiler's `colormap` query parameter. Failure: kBadRequest ("Could not parse the
// colormap value." or the color that is wrong).
Result<ColorMap> parse_colormap(std::string_view json);
// rio-tiler's parse_color.
Result<Rgba> parse_color(std::string_view hex);

// Colors a one-band image: RGB bands (uint8) and `valid` = the map's alpha where the
// input was valid, 0 elsewhere (so `valid` may hold partial alpha from here on). Values
// are cast to uint8 for lookup tables as numpy's astype does; values no entry matches are
// transparent. Failure: kBadRequest when the image has more than one band.
Result<Image> apply_colormap(const Image& image, const ColorMap& colormap);

}  // namespace scigate::raster
