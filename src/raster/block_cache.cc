#include "raster/block_cache.h"

#include <functional>

namespace scigate::raster {

namespace {
// What an entry costs beyond its pixels: key, list node, map node, control block.
constexpr uint64_t kEntryOverhead = 160;
}  // namespace

size_t BlockKeyHash::operator()(const BlockKey& k) const {
  size_t h = std::hash<std::string>()(k.file);
  h ^= (static_cast<size_t>(k.ifd) << 32 | k.strile) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

BlockCache::Lookup BlockCache::lookup_or_claim(const BlockKey& key) {
  Lookup out;
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    ++hits_;
    out.block = it->second.block;
    return out;
  }
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    ++joined_;
    out.pending = it->second.future;
    return out;
  }
  in_flight_.try_emplace(key);
  ++misses_;
  out.claimed = true;
  return out;
}

void BlockCache::complete(const BlockKey& key, const BlockResult& result) {
  std::unique_lock lock(mu_);
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  std::promise<BlockResult> promise = std::move(it->second.promise);
  in_flight_.erase(it);
  if (result) {
    uint64_t cost = (*result)->data.size() + key.file.size() + kEntryOverhead;
    if (cost <= capacity_ && !entries_.count(key)) {
      lru_.push_front(key);
      entries_.emplace(key, Entry{*result, cost, lru_.begin()});
      bytes_ += cost;
      evict_locked();
    }
  }
  lock.unlock();
  promise.set_value(result);
}

void BlockCache::evict_locked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.cost;
    entries_.erase(it);
    lru_.pop_back();
    ++evictions_;
  }
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, misses_, joined_, evictions_, bytes_, entries_.size(), capacity_};
}

}  // namespace scigate::raster
