#include "raster/documents.h"

#include <cmath>

namespace scigate::raster {
namespace {

boost::json::array bounds_array(const Bounds& b) { return {b.left, b.bottom, b.right, b.top}; }

// GDAL's colour interpretation names as rasterio reports them (lower-case).
boost::json::array colorinterp(const RasterInfo& info) {
  boost::json::array out;
  for (int b = 0; b < info.band_count; ++b) {
    const bool rgb = info.photometric == "rgb" || info.photometric == "ycbcr";
    if (info.photometric == "palette" && b == 0) {
      out.push_back("palette");
    } else if (rgb && b < 3) {
      static const char* kRgb[] = {"red", "green", "blue"};
      out.push_back(kRgb[b]);
    } else if (rgb && b == 3) {
      out.push_back("alpha");
    } else {
      out.push_back(b == 0 ? "gray" : "undefined");
    }
  }
  return out;
}

boost::json::array polygon(double w, double s, double e, double n) {
  return boost::json::array{boost::json::array{boost::json::array{w, s}, boost::json::array{e, s},
                                               boost::json::array{e, n}, boost::json::array{w, n},
                                               boost::json::array{w, s}}};
}

}  // namespace

std::vector<std::string> band_names(const std::vector<int>& bands) {
  std::vector<std::string> names;
  for (int b : bands) names.push_back("b" + std::to_string(b));
  return names;
}

std::vector<std::string> band_descriptions(const RasterInfo& info, const std::vector<int>& bands) {
  std::vector<std::string> out;
  for (int b : bands) {
    const size_t i = static_cast<size_t>(b - 1);
    const bool named = i < info.band_descriptions.size() && !info.band_descriptions[i].empty();
    out.push_back(named ? info.band_descriptions[i] : "b" + std::to_string(b));
  }
  return out;
}

boost::json::object info_json(const RasterInfo& info, std::optional<double> nodata) {
  std::vector<int> all;
  for (int b = 1; b <= info.band_count; ++b) all.push_back(b);
  const auto descriptions = band_descriptions(info, all);
  boost::json::array metadata, described, scales, offsets, overviews;
  for (int b = 1; b <= info.band_count; ++b) {
    const std::string name = "b" + std::to_string(b);
    metadata.push_back(boost::json::array{name, boost::json::object{}});
    described.push_back(boost::json::array{name, descriptions[b - 1]});
    scales.push_back(static_cast<size_t>(b - 1) < info.scales.size() ? info.scales[b - 1] : 1.0);
    offsets.push_back(static_cast<size_t>(b - 1) < info.offsets.size() ? info.offsets[b - 1] : 0.0);
  }
  // rasterio's overview factors: level-0 width over each overview's width, rounded.
  for (size_t k = 1; k < info.levels.size(); ++k) {
    overviews.push_back(static_cast<int64_t>(std::round(static_cast<double>(info.width) / info.levels[k].width)));
  }
  const std::optional<double> nodata_value = nodata ? nodata : info.nodata;
  const char* nodata_type = nodata_value ? "Nodata" : (info.has_mask ? "Mask" : "None");
  boost::json::object out{
      {"bounds", bounds_array(raster_bounds(info))},
      {"crs", crs_uri_or_wkt(info.crs)},
      {"band_metadata", metadata},
      {"band_descriptions", described},
      {"dtype", data_type_name(info.type)},
      {"nodata_type", nodata_type},
      {"colorinterp", colorinterp(info)},
      {"scales", scales},
      {"offsets", offsets},
      {"driver", "GTiff"},
      {"count", info.band_count},
      {"width", info.width},
      {"height", info.height},
      {"overviews", overviews},
  };
  if (!info.palette.empty()) {
    // rio-tiler's Info: the file's colormap as {"value": [r, g, b, a]}.
    boost::json::object colormap;
    for (size_t i = 0; i < info.palette.size(); ++i) {
      const auto& c = info.palette[i];
      colormap[std::to_string(i)] = boost::json::array{c[0], c[1], c[2], c[3]};
    }
    out["colormap"] = std::move(colormap);
  }
  if (nodata_value) {
    // JSON has no NaN: a NaN nodata is written as the string "nan", which TiTiler's
    // `nodata` parameter also accepts.
    out["nodata_value"] = std::isnan(*nodata_value) ? boost::json::value("nan") : boost::json::value(*nodata_value);
  }
  return out;
}

Bounds geographic_bounds(const RasterInfo& info, const Crs& crs) {
  if (same_crs(info.crs, crs)) return raster_bounds(info);
  auto bounds = transform_bounds(raster_bounds(info), info.crs, crs);
  if (!bounds || !std::isfinite(bounds->left) || !std::isfinite(bounds->top)) return {-180, -90, 180, 90};
  return *bounds;
}

boost::json::object info_geojson(const RasterInfo& info, const Crs& crs, std::optional<double> nodata) {
  const Bounds b = geographic_bounds(info, crs);
  boost::json::object geometry;
  if (b.left > b.right) {
    geometry = {{"type", "MultiPolygon"},
                {"coordinates",
                 boost::json::array{polygon(-180, b.bottom, b.right, b.top), polygon(b.left, b.bottom, 180, b.top)}}};
  } else {
    geometry = {{"type", "Polygon"}, {"coordinates", polygon(b.left, b.bottom, b.right, b.top)}};
  }
  return boost::json::object{
      {"type", "Feature"},
      {"bbox", bounds_array(b)},
      {"geometry", geometry},
      {"properties", info_json(info, nodata)},
  };
}

boost::json::object tilejson(const RasterInfo& info, const TileMatrixSet& tms, const std::string& tiles_url,
                             std::optional<int> minzoom, std::optional<int> maxzoom) {
  const ZoomRange zooms = zoom_range(info, tms);
  const int min_z = minzoom.value_or(zooms.minzoom), max_z = maxzoom.value_or(zooms.maxzoom);
  const Bounds b = geographic_bounds(info, tms.geographic_crs);
  std::vector<int> all;
  for (int k = 1; k <= info.band_count; ++k) all.push_back(k);
  boost::json::array described;
  const auto descriptions = band_descriptions(info, all);
  for (int k = 1; k <= info.band_count; ++k) {
    described.push_back(boost::json::array{"b" + std::to_string(k), descriptions[k - 1]});
  }
  return boost::json::object{
      {"tilejson", "3.0.0"},
      {"version", "1.0.0"},
      {"scheme", "xyz"},
      {"tiles", boost::json::array{boost::json::string(tiles_url)}},
      {"minzoom", min_z},
      {"maxzoom", max_z},
      {"bounds", bounds_array(b)},
      {"center", boost::json::array{(b.left + b.right) / 2, (b.bottom + b.top) / 2, min_z}},
      {"band_descriptions", described},
      {"data_type", data_type_name(info.type)},
  };
}

boost::json::object point_json(double lon, double lat, const PointValues& values, const std::vector<std::string>& names,
                               const std::vector<std::string>& descriptions) {
  boost::json::array v, n, d;
  for (const auto& value : values.values) {
    v.push_back(value && std::isfinite(*value) ? boost::json::value(*value) : boost::json::value(nullptr));
  }
  for (const auto& name : names) n.push_back(boost::json::string(name));
  for (const auto& desc : descriptions) d.push_back(boost::json::string(desc));
  return boost::json::object{
      {"coordinates", boost::json::array{lon, lat}},
      {"values", v},
      {"band_names", n},
      {"band_descriptions", d},
  };
}

}  // namespace scigate::raster
