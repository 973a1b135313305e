// The read side of every /cog image and data endpoint, in rio-tiler's order: the bands to
// read (`bidx`, or those an `expression` names), the warp onto the target grid (with the
// `nodata`, `resampling` and `reproject` options), `unscale`, then the expression. Band
// names and descriptions come along for /statistics and /point.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "raster/expression.h"
#include "raster/raster_types.h"
#include "raster/warp.h"

namespace scigate::raster {

struct LayerOptions {
  std::vector<int> bidx;                  // empty: every band
  std::optional<std::string> expression;  // replaces bidx when set, as rio-tiler
  ReadOptions read;                       // its `bands` are ignored: bidx or expression decide
  bool unscale = false;
};

struct Layer {
  Image image;
  std::vector<std::string> band_names;         // "b1", ... (rio-tiler names expression outputs b1.. too)
  std::vector<std::string> band_descriptions;  // the file's, or the expression blocks
};

// Failure: kBadRequest for a bad band, expression or option; the source's read errors.
Result<Layer> read_layer(RasterSource& source, const TargetGrid& grid, const LayerOptions& options);

// /point with the same options: one value per output band, empty where masked.
// Failure: kNotFound outside the raster, and as read_layer.
struct PointLayer {
  std::vector<std::optional<double>> values;
  std::vector<std::string> band_names;
  std::vector<std::string> band_descriptions;
};
Result<PointLayer> read_point(RasterSource& source, double x, double y, const Crs& coord_crs,
                              const LayerOptions& options);

}  // namespace scigate::raster
