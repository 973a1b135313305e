// Deep zoom for images that are not maps: the pure parts of DZI (Deep Zoom Image) and
// IIIF Image API 3.0 level 1. Both address pixels only: any georeferencing is ignored,
// and the pixels come from warp.h's resample_pixels (the level read is the coarsest
// still fine enough; area averaging when shrinking, as `vips dzsave` does).
//
//  * DZI levels as OpenSeadragon and `vips dzsave` compute them: the top level is
//    ceil(log2(max(width, height))), level L is ceil(size / 2^(top - L)); each level is cut
//    into tile_size squares, each tile extended by `overlap` pixels on the sides that have
//    a neighbour.
//  * IIIF: the region, size, rotation, quality and format path segments, with the spec's
//    answers: 400 for bad syntax or a request outside what the image allows (upscaling,
//    a region outside the image, more than maxWidth/maxHeight/maxArea), 501 for valid
//    features level 1 does not require (rotation other than 0, mirroring, bitonal, other
//    formats).
//
// All functions are pure and thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "raster/raster_types.h"
#include "raster/render.h"
#include "raster/warp.h"

namespace scigate::raster {

// ---- DZI -------------------------------------------------------------------------------

struct DziLayout {
  int width = 0;  // of the full image
  int height = 0;
  int tile_size = 254;
  int overlap = 1;

  int max_level() const;
  // Size of `level` (0 .. max_level()); 1x1 at level 0.
  int level_width(int level) const;
  int level_height(int level) const;
  int columns(int level) const;
  int rows(int level) const;
};

// A tile: its pixels in its level (overlap included), and the level-0 region they cover.
struct DziTile {
  Window window;
  PixelRegion region;
};
// Failure: kNotFound for a level, column or row that does not exist.
Result<DziTile> dzi_tile(const DziLayout& layout, int level, int col, int row);

// The .dzi descriptor (XML). `format` is "jpeg" or "png".
std::string dzi_descriptor(const DziLayout& layout, std::string_view format);

// ---- IIIF Image API 3.0 --------------------------------------------------------------

enum class IiifQuality { kDefault, kColor, kGray };

struct IiifLimits {
  int64_t max_area = 0;  // maxArea of info.json: the largest output, width x height
};

struct IiifRequest {
  Window region;  // level-0 pixels, inside the image
  int width = 0;  // of the output
  int height = 0;
  IiifQuality quality = IiifQuality::kDefault;
  ImageFormat format = ImageFormat::kJpeg;
};

// Each parser: kBadRequest for bad syntax or a value the image does not allow, and
// kNotImplemented for valid features beyond level 1.
Result<Window> parse_iiif_region(std::string_view text, int image_width, int image_height);
Result<std::pair<int, int>> parse_iiif_size(std::string_view text, const Window& region, const IiifLimits& limits);
Status parse_iiif_rotation(std::string_view text);
// "{quality}.{format}".
Result<std::pair<IiifQuality, ImageFormat>> parse_iiif_quality_format(std::string_view text);
// All four segments of /{region}/{size}/{rotation}/{quality}.{format}.
Result<IiifRequest> parse_iiif_request(std::string_view region, std::string_view size, std::string_view rotation,
                                       std::string_view quality_format, int image_width, int image_height,
                                       const IiifLimits& limits);

// info.json for the image service at `id` (an absolute URL). Tiles of `tile_size`, one
// scale factor per power of two down to the one that fits in a tile; `sizes` are the
// whole image at those factors, within `limits`.
boost::json::object iiif_info(const std::string& id, int width, int height, int tile_size, const IiifLimits& limits);

// ---- Pixels --------------------------------------------------------------------------

// The bands deep zoom shows: gray or RGB out of whatever the file holds (the first three
// colour bands of a multi-band file; the first of a two-colour-band one); never the alpha
// band, which becomes the output's alpha.
std::vector<int> display_bands(const RasterInfo& info);

// `region` of `source` resampled (area average) to width x height, as 8-bit gray or RGB
// (an alpha band or mask kept as PNG alpha), encoded as `format`. Non-8-bit sources are
// stretched from their type's range, as the tiler's render does. PNG is compressed at zlib
// `png_level` (raster.png_level, as the tiler's). Failure: the source's read errors;
// kBadRequest for what the format cannot hold or an output beyond kMaxWarpValues.
Result<Rendered> render_pixels(RasterSource& source, const PixelRegion& region, int width, int height,
                               IiifQuality quality, ImageFormat format, int png_level);

// A DZI tile, with the last column and row of an odd-sized level averaged over the part
// of the image they cover. Failure: as render_pixels.
Result<Rendered> render_dzi_tile(RasterSource& source, const DziTile& tile, ImageFormat format, int png_level);

}  // namespace scigate::raster
