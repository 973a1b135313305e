// BlockCache: decoded raster blocks (tiles or strips) of every open file, in one LRU
// bounded by bytes (raster.cache_bytes), with single flight: when several reads need a
// block nobody holds, one of them fetches and decodes it and the others wait for that.
//
// Blocks are kept decoded (in the file's sample type, not as doubles): a map tile needs
// 1-4 blocks and its neighbours need the same ones again, so decoding once per block
// saves more CPU than raw bytes would save memory.
//
// Keys name the file with its ETag, so a block of a replaced object is never served for
// the new one (it just ages out).
//
// Thread safety: all methods are thread-safe; one mutex, held for map operations only.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace scigate::raster {

struct BlockKey {
  std::string file;  // provider, bucket, key and ETag
  uint32_t ifd = 0;
  uint32_t strile = 0;
  bool operator==(const BlockKey&) const = default;
};

struct BlockKeyHash {
  size_t operator()(const BlockKey& k) const;
};

// A decoded block: rows of block_width × samples, one sample per element of the file's
// type (1-bit data unpacked to a byte). Empty for a sparse block (no data in the file).
struct Block {
  std::vector<uint8_t> data;
};
using BlockPtr = std::shared_ptr<const Block>;
using BlockResult = Result<BlockPtr>;

struct BlockCacheStats {
  uint64_t hits = 0;    // served from the cache
  uint64_t misses = 0;  // fetched and decoded
  uint64_t joined = 0;  // waited for another read's fetch of the same block
  uint64_t evictions = 0;
  uint64_t bytes = 0;  // held now
  uint64_t entries = 0;
  uint64_t capacity = 0;
};

class BlockCache {
 public:
  explicit BlockCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // What a read does about one block: use `block`, wait for `pending`, or (claimed) fetch
  // it and call complete() exactly once.
  struct Lookup {
    BlockPtr block;
    std::shared_future<BlockResult> pending;
    bool claimed = false;
  };
  Lookup lookup_or_claim(const BlockKey& key);
  // Ends a claim: caches a success (unless larger than the whole cache) and hands the
  // result to every waiter. Failures are not cached.
  void complete(const BlockKey& key, const BlockResult& result);

  BlockCacheStats stats() const;

 private:
  struct Entry {
    BlockPtr block;
    uint64_t cost = 0;
    std::list<BlockKey>::iterator lru;
  };
  struct InFlight {
    std::promise<BlockResult> promise;
    std::shared_future<BlockResult> future = promise.get_future().share();
  };
  void evict_locked();

  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::list<BlockKey> lru_;  // most recently used first
  std::unordered_map<BlockKey, Entry, BlockKeyHash> entries_;
  std::unordered_map<BlockKey, InFlight, BlockKeyHash> in_flight_;
  uint64_t bytes_ = 0;
  std::atomic<uint64_t> hits_{0}, misses_{0}, joined_{0}, evictions_{0};
};

}  // namespace scigate::raster
