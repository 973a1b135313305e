// The colormap tables generated at build time from d3-scale-chromatic (see
// colormaps/gen_colormaps.mjs for each table's source and licence).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace scigate::raster {

struct GeneratedColormap {
  const char* name;
  std::array<std::array<uint8_t, 3>, 256> lut;
};

const std::vector<GeneratedColormap>& generated_colormaps();

}  // namespace scigate::raster
