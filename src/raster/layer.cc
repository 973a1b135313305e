#include "raster/layer.h"

#include "raster/documents.h"
#include "raster/render.h"

namespace scigate::raster {
namespace {

struct Plan {
  std::optional<Expression> expression;
  std::vector<int> bands;  // what to read
};

Result<Plan> plan(const RasterInfo& info, const LayerOptions& options) {
  Plan p;
  if (options.expression) {
    auto expr = Expression::parse(*options.expression);
    if (!expr) return expr.error();
    p.bands = expr->bands();
    p.expression = std::move(*expr);
  } else {
    p.bands = options.bidx;
  }
  if (p.bands.empty()) {
    // rio-tiler's default: every band but the alpha band, which becomes the mask instead.
    for (int b = 1; b <= info.band_count; ++b) {
      if (b != info.alpha_band) p.bands.push_back(b);
    }
  }
  return p;
}

// Unscale, then the expression, then the names: rio-tiler's order after its read.
Result<Layer> finish(Image image, const RasterInfo& info, const Plan& p, const LayerOptions& options) {
  if (options.unscale) unscale(image, info, p.bands);
  if (!p.expression) {
    return Layer{std::move(image), band_names(p.bands), band_descriptions(info, p.bands)};
  }
  auto out = p.expression->apply(image, p.bands);
  if (!out) return out.error();
  std::vector<int> outputs;
  for (size_t k = 1; k <= out->bands.size(); ++k) outputs.push_back(static_cast<int>(k));
  std::vector<int> all;
  for (int b = 1; b <= info.band_count; ++b) all.push_back(b);
  return Layer{std::move(*out), band_names(outputs), p.expression->describe(band_descriptions(info, all))};
}

}  // namespace

Result<Layer> read_layer(RasterSource& source, const TargetGrid& grid, const LayerOptions& options) {
  auto p = plan(source.info(), options);
  if (!p) return p.error();
  ReadOptions read = options.read;
  read.bands = p->bands;
  auto image = warp(source, grid, read);
  if (!image) return image.error();
  return finish(std::move(*image), source.info(), *p, options);
}

Result<PointLayer> read_point(RasterSource& source, double x, double y, const Crs& coord_crs,
                              const LayerOptions& options) {
  auto p = plan(source.info(), options);
  if (!p) return p.error();
  ReadOptions read = options.read;
  read.bands = p->bands;
  auto values = point(source, x, y, coord_crs, read);
  if (!values) return values.error();
  // A one-pixel image through the same steps; masked bands make the pixel masked, as the
  // expression's output is masked where any input band is.
  Image pixel;
  pixel.width = 1, pixel.height = 1, pixel.type = source.info().type;
  bool valid = true;
  for (const auto& v : values->values) {
    pixel.bands.push_back({v.value_or(0)});
    valid = valid && v.has_value();
  }
  pixel.valid = {static_cast<uint8_t>(valid ? 255 : 0)};
  auto layer = finish(std::move(pixel), source.info(), *p, options);
  if (!layer) return layer.error();
  PointLayer out{{}, std::move(layer->band_names), std::move(layer->band_descriptions)};
  for (size_t b = 0; b < layer->image.bands.size(); ++b) {
    const bool masked = p->expression ? !valid : !values->values[b].has_value();
    out.values.push_back(masked ? std::nullopt : std::optional<double>(layer->image.bands[b][0]));
  }
  return out;
}

}  // namespace scigate::raster
