#include "raster/raster_readers.h"

#include <sstream>

#include "http/metrics.h"

namespace scigate::raster {

RasterReaders::RasterReaders(StoreMap stores, RasterConfig config, Clock clock)
    : stores_(std::move(stores)),
      config_(config),
      clock_(std::move(clock)),
      context_(std::make_shared<ReaderContext>(config.cache_bytes, config.fetch_threads)) {
  for (const auto& [name, store] : stores_) counters_[name] = std::make_shared<IoCounters>();
}

Result<std::shared_ptr<CogReader>> RasterReaders::open(const std::string& provider, const std::string& bucket,
                                                       const std::string& key) {
  if (!stores_.count(provider)) return Error::not_found("unknown provider '" + provider + "'");
  std::string id = provider + '\n' + bucket + '\n' + key;
  std::promise<ReaderResult> promise;
  std::optional<ReaderResult> previous;
  std::string previous_etag;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      Entry& e = it->second;
      lru_.splice(lru_.begin(), lru_, e.lru);
      if (e.loading.valid()) {
        auto loading = e.loading;
        lock.unlock();
        return loading.get();
      }
      if (e.reader && clock_() - e.checked < config_.revalidate_after) {
        ++hits_;
        return *e.reader;
      }
      previous = e.reader;
      previous_etag = e.etag;
      e.loading = promise.get_future().share();
    } else {
      lru_.push_front(id);
      Entry& e = entries_[id];
      e.lru = lru_.begin();
      e.loading = promise.get_future().share();
      evict_locked();
    }
  }
  Loaded loaded = load(provider, bucket, key, previous, previous_etag);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);  // entries being loaded are never evicted
    if (loaded.keep) {
      it->second.loading = {};
      it->second.reader = loaded.reader;
      it->second.etag = loaded.etag;
      it->second.checked = clock_();
    } else {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  promise.set_value(loaded.reader);
  return loaded.reader;
}

RasterReaders::Loaded RasterReaders::load(const std::string& provider, const std::string& bucket,
                                          const std::string& key, const std::optional<ReaderResult>& previous,
                                          const std::string& previous_etag) {
  const auto& store = stores_.at(provider);
  const auto& counters = counters_.at(provider);
  auto head = store->head(bucket, key);
  ++counters->heads;
  if (!head) return {head.error(), "", false};
  if (previous && head->etag == previous_etag) {
    ++revalidations_;
    return {*previous, previous_etag, true};
  }
  ++parses_;
  std::string etag = head->etag;
  auto reader = CogReader::open(ObjectRef{store, bucket, key, std::move(head).value()}, context_, counters);
  bool keep = reader.ok() || reader.error().code == ErrorCode::kBadRequest;
  return {std::move(reader), std::move(etag), keep};
}

void RasterReaders::evict_locked() {
  auto it = lru_.end();
  while (entries_.size() > config_.header_cache_entries && it != lru_.begin()) {
    --it;
    auto e = entries_.find(*it);
    if (e->second.loading.valid()) continue;
    entries_.erase(e);
    it = lru_.erase(it);
  }
}

HeaderCacheStats RasterReaders::header_stats() const {
  std::lock_guard lock(mu_);
  return {hits_, revalidations_, parses_, entries_.size()};
}

std::string RasterReaders::metrics_text() const {
  std::ostringstream out;
  auto per_provider = [&](const char* name, const char* help, std::atomic<uint64_t> IoCounters::*field) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
    for (const auto& [provider, c] : counters_) {
      out << name << "{provider=\"" << prometheus_label(provider) << "\"} " << ((*c).*field).load() << "\n";
    }
  };
  per_provider("scigate_raster_gets_total", "Ranged GETs the COG reader sent.", &IoCounters::gets);
  per_provider("scigate_raster_get_bytes_total", "Bytes the COG reader's GETs received.", &IoCounters::bytes);
  per_provider("scigate_raster_heads_total", "HEADs the COG reader sent (ETag checks).", &IoCounters::heads);
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  auto b = block_stats();
  metric("scigate_raster_block_cache_hits_total", "counter", "Blocks served from the block cache.", b.hits);
  metric("scigate_raster_block_cache_misses_total", "counter", "Blocks fetched and decoded.", b.misses);
  metric("scigate_raster_block_cache_joined_total", "counter", "Blocks waited for while another read fetched them.",
         b.joined);
  metric("scigate_raster_block_cache_evictions_total", "counter", "Blocks dropped to stay within cache_bytes.",
         b.evictions);
  metric("scigate_raster_block_cache_bytes", "gauge", "Bytes held by the block cache.", b.bytes);
  metric("scigate_raster_block_cache_capacity_bytes", "gauge", "raster.cache_bytes.", b.capacity);
  auto h = header_stats();
  metric("scigate_raster_header_cache_hits_total", "counter", "Opens served without a request.", h.hits);
  metric("scigate_raster_header_revalidations_total", "counter", "HEADs that found the ETag unchanged.",
         h.revalidations);
  metric("scigate_raster_header_parses_total", "counter", "Headers read and parsed.", h.parses);
  metric("scigate_raster_header_cache_entries", "gauge", "Files whose header is cached.", h.entries);
  return out.str();
}

}  // namespace scigate::raster
