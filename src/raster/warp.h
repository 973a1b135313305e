// Reprojection and resampling of a RasterSource onto a target grid, as gdalwarp does it in
// one pass: the overview is chosen by resolution (gdalwarp's -ovr AUTO, which rio-tiler's
// get_overview_level copies), output pixel centres are mapped to source pixels through
// PROJ with GDAL's approximate transformer (exact transforms at a few points of each row,
// linear interpolation in between while the error stays under 0.125 source pixels), and
// the kernel runs over the source window read with a margin for its radius.
//
// Longitudes wrap onto geographic sources: a raster in EPSG:4326 spanning 170°..190°
// serves tiles on both sides of the antimeridian.
//
// Which kernel: rio-tiler takes two names, `resampling` (RasterIO, used when the CRS stays)
// and `reproject` (warp kernel, used when it changes). A one-pass warp uses one kernel:
// `resampling` without reprojection; with reprojection `reproject`, unless that is nearest
// and `resampling` is not (a user asking for a smooth result in either parameter gets it).
//
// All functions are thread-safe when the RasterSource is.
#pragma once

#include <optional>
#include <vector>

#include "core/error.h"
#include "raster/projection.h"
#include "raster/raster_types.h"
#include "raster/resampling.h"
#include "raster/tms.h"

namespace scigate::raster {

struct ReadOptions {
  std::vector<int> bands;        // 1-based; empty = all bands of the source
  std::optional<double> nodata;  // replaces the source's nodata (NaN allowed)
  Resampling resampling = Resampling::kNearest;
  Resampling reproject = Resampling::kNearest;
  // gdalwarp's -et: the approximate transformer's error threshold in source pixels; 0
  // transforms every output pixel exactly.
  double max_error = 0.125;
};

// The kernel a warp uses for these options (see the header comment).
Resampling effective_resampling(const ReadOptions& options, bool reprojecting);

// The level gdalwarp -ovr AUTO reads when an output pixel spans target_resolution /
// natural_resolution level-0 pixels (warp() passes gdalwarp's source-window ratio).
int choose_level(const RasterInfo& info, double natural_resolution, double target_resolution);

// The most values (output pixels × bands) one warp produces: 256 MiB as doubles, the COG
// reader's window limit. A file claiming thousands of bands must not make one tile
// allocate gigabytes.
constexpr uint64_t kMaxWarpValues = uint64_t{1} << 25;

// The source rendered onto `grid`. The Image keeps the source's data type (integer values
// are rounded as GDAL does) and marks invalid what no valid source pixel reaches.
// Failure: kBadRequest for bad bands or CRSs, or an output beyond kMaxWarpValues; the
// source's read errors.
Result<Image> warp(RasterSource& source, const TargetGrid& grid, const ReadOptions& options);

// Deep zoom (DZI, IIIF): the same one-pass resampling in pixel space, ignoring any
// georeferencing. `region` is in level-0 pixels (fractions allowed); the output is
// width x height; the level read is the coarsest still at least as fine as the output on
// both axes (gdalwarp's rule above); `options.resampling` is the kernel. Failure: as warp().
struct PixelRegion {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};
Result<Image> resample_pixels(RasterSource& source, const PixelRegion& region, int width, int height,
                              const ReadOptions& options);

// Output size rules shared by /bbox and /preview (rio-tiler's): explicit width and height;
// one of them (the other keeps the aspect ratio); or max_size for the longer side (never
// enlarging); or none (the natural size).
struct SizeRequest {
  std::optional<int> width;
  std::optional<int> height;
  std::optional<int> max_size;
};

// /bbox: `bbox` in `bbox_crs` (TiTiler's coord_crs, default EPSG:4326) rendered in
// `dst_crs` (default: bbox_crs), at the natural resolution unless `size` says otherwise.
struct BBoxRequest {
  Bounds bbox;
  Crs bbox_crs{4326, "EPSG:4326"};
  std::optional<Crs> dst_crs;
  SizeRequest size;
};
Result<TargetGrid> bbox_grid(const RasterInfo& info, const BBoxRequest& request);

// /preview and /statistics: the whole raster (in its CRS, or `dst_crs`), max_size 1024
// by default as rio-tiler.
Result<TargetGrid> preview_grid(const RasterInfo& info, SizeRequest size, const std::optional<Crs>& dst_crs = {});

// /point: the pixel under (x, y) of `coord_crs` at full resolution. `values[i]` is empty
// where the pixel is invalid for band i. Failure: kNotFound outside the raster.
struct PointValues {
  std::vector<std::optional<double>> values;
  int col = 0;
  int row = 0;
};
Result<PointValues> point(RasterSource& source, double x, double y, const Crs& coord_crs, const ReadOptions& options);

}  // namespace scigate::raster
