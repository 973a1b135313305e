// The parsed header of a (Cloud-Optimized) GeoTIFF: everything needed to read pixels
// without parsing again: the levels (full resolution and overviews) and their internal
// masks with each block's byte range, the sample layout, the georeferencing and GDAL's
// metadata. Built once per (provider, bucket, key, ETag) and immutable afterwards.
//
// parse_cog_header fetches the first 64 KiB and lets libtiff walk every IFD (fetching
// more when the IFDs or the tile offset arrays lie further), so a COG costs one GET and a
// classic TIFF with its IFD at the end a few. libgeotiff reads the GeoKeys.
//
// Failure: kBadRequest "not a TIFF" or "corrupt TIFF: ..." (file problems, including
// absurd sizes and unsupported sample layouts: "unsupported TIFF: ..."), or the fetch's
// own error (S3 trouble).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "raster/raster_types.h"
#include "raster/tiff_file.h"

namespace scigate::raster::detail {

// One IFD the reader uses: a level or a level's mask.
struct Directory {
  // Unique within the file: the position in the IFD chain (TIFFSetDirectory), or for a
  // SubIFD kSubIfdBase + its index among the SubIFDs read.
  int ifd = 0;
  uint64_t sub_offset = 0;  // a SubIFD's file offset (TIFFSetSubDirectory); 0 in the main chain
  int width = 0;
  int height = 0;
  int block_width = 0;  // tile size; for strips the image width and rows per strip
  int block_height = 0;
  bool tiled = false;
  int samples = 1;        // per pixel
  int bits = 8;           // per sample: 1, 8, 16, 32 or 64
  bool separate = false;  // PlanarConfiguration 2: one strile per band and block
  uint16_t compression = 1;
  bool jpeg_ycbcr = false;  // JPEG-compressed YCbCr: decode with JPEGCOLORMODE_RGB
  DataType type = DataType::kUInt8;
  int blocks_across = 0;
  int blocks_down = 0;
  std::vector<uint64_t> offsets;  // per strile: [plane][block row][block col]
  std::vector<uint64_t> byte_counts;

  uint32_t strile(int block_col, int block_row, int plane) const {
    return static_cast<uint32_t>((static_cast<int64_t>(plane) * blocks_down + block_row) * blocks_across + block_col);
  }
  // Rows the block holds (the last strip of a stripped image may be shorter).
  int block_rows(int block_row) const {
    return tiled ? block_height : std::min(block_height, height - block_row * block_height);
  }
  // Samples per pixel in one strile.
  int block_samples() const { return separate ? 1 : samples; }
  // Bytes of a decoded block as stored: 1-bit rows padded to a byte.
  uint64_t decoded_row_bytes() const { return (static_cast<uint64_t>(block_width) * block_samples() * bits + 7) / 8; }
};

struct CogHeader {
  RasterInfo info;
  std::vector<Directory> levels;   // parallel to info.levels
  std::vector<int> mask_of_level;  // index into masks, or -1
  std::vector<Directory> masks;
  uint64_t file_size = 0;
  // The bytes parsing read (IFDs and tag data): decode handles re-read the IFDs from here.
  std::shared_ptr<const SparseBytes> bytes;
};

// Directory::ifd of SubIFDs (OME-TIFF and `vips tiffsave --subifd` pyramids keep their
// reduced levels in the SubIFDs, tag 330, of the first IFD).
constexpr int kSubIfdBase = 1 << 20;

// Limits that keep a hostile file from costing unbounded memory or time.
struct HeaderLimits {
  uint64_t max_header_bytes = 64 << 20;  // fetched while parsing
  uint64_t max_striles = 1 << 21;        // tiles or strips of all levels together
  uint64_t max_block_bytes = 64 << 20;   // one decoded block
  int max_directories = 512;             // IFDs of the chain and SubIFDs together
};

Result<CogHeader> parse_cog_header(uint64_t file_size, const RangeFetch& fetch, const HeaderLimits& limits = {});

}  // namespace scigate::raster::detail
