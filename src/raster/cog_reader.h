// CogReader: a RasterSource over one (Cloud-Optimized) GeoTIFF object of an ObjectStore,
// read with ranged GETs through scigate's own store (so S3 reads are signed with the
// provider's rotating credentials), never through GDAL.
//
// Why libtiff this way: libtiff decodes every codec a COG uses (LZW, Deflate, JPEG with
// JPEGTables and YCbCr, WebP, ZSTD, LERC, PackBits; predictors 2 and 3; byte order and
// bit order) and parses IFDs defensively, so none of that is written here. But a TIFF*
// is not thread-safe and reading pixels through one would serialise every tile of a
// file on one handle and make libtiff do the I/O. So:
//  * open: libtiff walks the IFDs once over the first 64 KiB (fetching more when needed)
//    and the result becomes an immutable CogHeader: levels, masks, every block's byte
//    range, georeferencing (libgeotiff), GDAL nodata/metadata;
//  * read: the reader works out the blocks a window needs, fetches the missing ones
//    with adjacent ranges merged into as few GETs as possible, those GETs in parallel,
//    and decodes each block with TIFFReadFromUserBuffer on a handle taken from a small
//    per-file pool of handles (re-opened over the cached header bytes, never doing I/O).
//    Concurrent reads share nothing but the block cache and that pool.
//
// Thread safety: read() may run on many threads at once.
// Failure: see open() and read().
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raster/block_cache.h"
#include "raster/cog_header.h"
#include "raster/fetch_pool.h"
#include "raster/raster_types.h"
#include "storage/object_store.h"

namespace scigate::raster {

// Requests and bytes a provider's store served to the readers (for /metrics).
struct IoCounters {
  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> heads{0};
};

// What the readers of one process share.
struct ReaderContext {
  explicit ReaderContext(uint64_t cache_bytes, int fetch_threads) : cache(cache_bytes), pool(fetch_threads) {}
  BlockCache cache;
  FetchPool pool;
};

struct ObjectRef {
  std::shared_ptr<ObjectStore> store;
  std::string bucket;
  std::string key;
  ObjectInfo object;  // size and ETag, from a HEAD
};

class CogReader final : public RasterSource {
 public:
  // Reads and parses the header (one GET for a COG; more when its IFDs lie further).
  // Failure: kBadRequest "not a TIFF" / "corrupt TIFF: ..." / "unsupported TIFF: ...",
  // or the store's error.
  static Result<std::shared_ptr<CogReader>> open(ObjectRef object, std::shared_ptr<ReaderContext> context,
                                                 std::shared_ptr<IoCounters> counters);
  ~CogReader() override;

  const RasterInfo& info() const override { return header_.info; }
  // Failure: kBadRequest for a level or band that does not exist or a window beyond
  // kMaxWindowValues; kBadRequest "corrupt TIFF: ..." for a block that does not decode
  // or lies past the end of the file; the store's error for a failed GET.
  Result<Image> read(int level, const Window& window, const std::vector<int>& bands) override;

  const std::string& etag() const { return object_.object.etag; }
  // The largest window read() accepts, in pixels × bands.
  static constexpr uint64_t kMaxWindowValues = uint64_t{1} << 25;

 private:
  struct BlockRef;  // a block a read needs
  struct Claim;     // a block a read fetches itself, and how that ended
  CogReader(ObjectRef object, detail::CogHeader header, std::shared_ptr<ReaderContext> context,
            std::shared_ptr<IoCounters> counters);

  Status check_request(int level, const Window& window, const std::vector<int>& bands) const;
  // The blocks, in the order asked, each from the cache or fetched (single flight).
  Result<std::vector<BlockPtr>> blocks(const std::vector<BlockRef>& refs);
  // One GET for a group of blocks close together in the file, then their decoding.
  // Never throws: a claim it cannot end otherwise ends with an internal error.
  void fetch_group(const std::vector<Claim*>& group);
  void fetch_group_or_throw(const std::vector<Claim*>& group);
  BlockResult decode(const BlockRef& ref, std::string raw);

  // Decode handles per IFD, each used by one thread at a time.
  Result<detail::TiffHandle> take_handle(const detail::Directory& dir);
  void give_back(int ifd, detail::TiffHandle handle);

  ObjectRef object_;
  detail::CogHeader header_;
  std::shared_ptr<ReaderContext> context_;
  std::shared_ptr<IoCounters> counters_;
  std::string file_id_;  // provider, bucket, key, ETag: the block cache's key prefix
  std::mutex handles_mu_;
  std::map<int, std::vector<detail::TiffHandle>> idle_handles_;
  size_t idle_handle_count_ = 0;
};

}  // namespace scigate::raster
