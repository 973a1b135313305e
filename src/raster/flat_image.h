// Flat images for deep zoom: a PNG, a JPEG, or a TIFF without reduced-resolution levels,
// decoded once into memory with a pyramid computed from it, then served as a RasterSource
// (so deep zoom reads it as it reads a pyramidal TIFF).
//
// The pyramid is the one `vips dzsave` computes: each level halves the previous one (sides
// rounded up), each pixel the mean of the 2x2 pixels below it rounded half up, an odd
// side's last pixel the mean of what exists (vips copies the edge, which comes to the
// same). Levels carry their exact factors (powers of two), so a DZI level reads exactly
// one of them, pixel for pixel.
//
// FlatImageCache keeps built images by file identity (provider, bucket, key, ETag) within
// a byte budget (LRU); building is single flight, so the many tile requests a viewer sends
// at once for a new image decode it once.
//
// Thread safety: FlatImage is immutable once built; FlatImageCache is thread-safe.
#pragma once

#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "raster/image_decode.h"
#include "raster/raster_types.h"

namespace scigate::raster {

class FlatImage final : public RasterSource {
 public:
  // Takes the decoded pixels as level 0.
  static std::shared_ptr<FlatImage> from_decoded(DecodedImage image);
  // Reads `bands` (1-based) of `source`'s full-resolution level into memory, in strips,
  // with an alpha band for its invalid pixels when it has nodata, a mask or alpha.
  // 8- and 16-bit unsigned samples are kept; other types are stretched from their type's
  // range to 8 bits, as the deep zoom rendering does. Failure: the source's read errors.
  static Result<std::shared_ptr<FlatImage>> from_source(RasterSource& source, const std::vector<int>& bands);

  const RasterInfo& info() const override { return info_; }
  Result<Image> read(int level, const Window& window, const std::vector<int>& bands) override;
  uint64_t bytes() const;  // memory held by all levels

 private:
  struct Plane {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> samples;  // interleaved, sample_bytes_ each
  };
  FlatImage() = default;
  void build_levels();

  RasterInfo info_;
  int sample_bytes_ = 1;
  std::vector<Plane> levels_;
};

struct FlatCacheStats {
  uint64_t hits = 0;
  uint64_t builds = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

class FlatImageCache {
 public:
  using FlatResult = Result<std::shared_ptr<FlatImage>>;
  explicit FlatImageCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The image cached under `id`, or build()'s result (built once however many ask at the
  // same time). Verdicts on the file (kBadRequest, kPayloadTooLarge) are kept too; other
  // failures (store errors) are not. The newest image is kept even when it alone exceeds
  // the budget (its size is bounded by raster.deepzoom.max_flat_pixels).
  FlatResult get_or_build(const std::string& id, const std::function<FlatResult()>& build);
  FlatCacheStats stats() const;

 private:
  struct Entry {
    std::optional<FlatResult> value;
    std::shared_future<FlatResult> building;
    uint64_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  void evict_locked(const std::string& keep);

  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  uint64_t bytes_ = 0;
  uint64_t hits_ = 0, builds_ = 0;
};

}  // namespace scigate::raster
