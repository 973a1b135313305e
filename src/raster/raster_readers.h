// RasterReaders: where handlers get a CogReader for provider/bucket/key. Built once at
// startup over the StoreMap (so every read uses its provider's store and rotating
// credentials) and shared by all requests.
//
//  * A file is identified by (provider, bucket, key, ETag). The ETag comes from a HEAD,
//    repeated only when the last one is older than raster.revalidate_after: within that
//    time a request costs no request to the store at all. When the ETag changed, the
//    header is parsed again; blocks of the old object are never served for the new one.
//  * Parsed headers are kept for raster.header_cache_entries files (LRU); so are
//    "not a TIFF" / "corrupt TIFF" answers, which cannot change for one ETag.
//  * Opening is single-flight: concurrent requests for one file wait for one HEAD and
//    one header parse.
//  * Deep zoom's flat images (open_image) are kept decoded in a FlatImageCache of
//    raster.deepzoom.flat_cache_bytes, keyed with the ETag as blocks are.
//  * Blocks live in one BlockCache of raster.cache_bytes; GETs of all reads together run
//    on raster.fetch_threads threads.
//
// If an object is replaced within revalidate_after, reads may see blocks of the new
// object through the old header and fail as "corrupt TIFF" until the next HEAD.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "catalog/config.h"
#include "raster/cog_reader.h"
#include "raster/flat_image.h"
#include "storage/store_factory.h"

namespace scigate::raster {

struct HeaderCacheStats {
  uint64_t hits = 0;           // served a parsed header without a HEAD
  uint64_t revalidations = 0;  // HEADs that found the same ETag
  uint64_t parses = 0;         // headers read and parsed (new file or new ETag)
  uint64_t entries = 0;
};

class RasterReaders {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  RasterReaders(
      StoreMap stores, RasterConfig config, Clock clock = [] { return std::chrono::steady_clock::now(); });

  // The reader of one object. Failure: kNotFound for an unknown provider or a missing
  // object; kBadRequest "not a TIFF" / "corrupt TIFF: ..." / "unsupported TIFF: ...";
  // the store's errors (kUpstreamFailed, kUnavailable naming the provider, ...).
  Result<std::shared_ptr<CogReader>> open(const std::string& provider, const std::string& bucket,
                                          const std::string& key);

  // Deep zoom's source for one object: a TIFF with reduced-resolution levels is its
  // CogReader; a TIFF without them, a PNG or a JPEG is a FlatImage (decoded once, kept in
  // the flat image cache; its display bands only, see deepzoom.h). Failure: as open();
  // kBadRequest "not a TIFF, PNG or JPEG image"; kPayloadTooLarge for a flat image above
  // raster.deepzoom.max_flat_pixels.
  Result<std::shared_ptr<RasterSource>> open_image(const std::string& provider, const std::string& bucket,
                                                   const std::string& key);
  FlatCacheStats flat_stats() const { return flat_.stats(); }

  BlockCacheStats block_stats() const { return context_->cache.stats(); }
  HeaderCacheStats header_stats() const;
  // Per provider: GETs, bytes received, HEADs. Providers are the StoreMap's, fixed.
  const IoCounters& io(const std::string& provider) const { return *counters_.at(provider); }
  // Prometheus exposition lines (for Metrics::add_collector).
  std::string metrics_text() const;

 private:
  using ReaderResult = Result<std::shared_ptr<CogReader>>;
  // A file's reader (or why it has none) and what its HEAD said (size, ETag; empty when
  // the HEAD failed).
  struct Opened {
    ReaderResult reader;
    ObjectInfo object;
  };
  struct Loaded {
    Opened opened;
    bool keep = false;  // a header or a verdict on the file, not a store failure
  };
  struct Entry {
    std::chrono::steady_clock::time_point checked{};
    std::optional<Opened> opened;        // a parsed header, or why it failed
    std::shared_future<Opened> loading;  // a HEAD/parse under way
    std::list<std::string>::iterator lru;
  };
  Opened open_object(const std::string& provider, const std::string& bucket, const std::string& key);
  // HEAD, then (for a new ETag) read and parse the header. No lock held.
  Loaded load(const std::string& provider, const std::string& bucket, const std::string& key,
              const std::optional<Opened>& previous);
  void evict_locked();
  // A PNG or JPEG file, fetched whole and decoded (the caller caches the result).
  FlatImageCache::FlatResult load_flat(const std::string& provider, const std::string& bucket, const std::string& key,
                                       const ObjectInfo& object);

  StoreMap stores_;
  RasterConfig config_;
  Clock clock_;
  std::shared_ptr<ReaderContext> context_;
  std::map<std::string, std::shared_ptr<IoCounters>> counters_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // by provider, bucket, key
  std::list<std::string> lru_;                      // most recently used first
  std::atomic<uint64_t> hits_{0}, revalidations_{0}, parses_{0};
  FlatImageCache flat_;
};

}  // namespace scigate::raster
