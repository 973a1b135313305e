#include "raster/raster_readers.h"

#include <sstream>

#include "http/metrics.h"
#include "raster/deepzoom.h"
#include "raster/image_decode.h"

namespace scigate::raster {

RasterReaders::RasterReaders(StoreMap stores, RasterConfig config, Clock clock)
    : stores_(std::move(stores)),
      config_(config),
      clock_(std::move(clock)),
      context_(std::make_shared<ReaderContext>(config.cache_bytes, config.fetch_threads)),
      flat_(config.deepzoom.flat_cache_bytes) {
  for (const auto& [name, store] : stores_) counters_[name] = std::make_shared<IoCounters>();
}

Result<std::shared_ptr<CogReader>> RasterReaders::open(const std::string& provider, const std::string& bucket,
                                                       const std::string& key) {
  return open_object(provider, bucket, key).reader;
}

RasterReaders::Opened RasterReaders::open_object(const std::string& provider, const std::string& bucket,
                                                 const std::string& key) {
  if (!stores_.count(provider)) return {Error::not_found("unknown provider '" + provider + "'"), {}};
  std::string id = provider + '\n' + bucket + '\n' + key;
  std::promise<Opened> promise;
  std::optional<Opened> previous;
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
      if (e.opened && clock_() - e.checked < config_.revalidate_after) {
        ++hits_;
        return *e.opened;
      }
      previous = e.opened;
      e.loading = promise.get_future().share();
    } else {
      lru_.push_front(id);
      Entry& e = entries_[id];
      e.lru = lru_.begin();
      e.loading = promise.get_future().share();
      evict_locked();
    }
  }
  Loaded loaded = load(provider, bucket, key, previous);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);  // entries being loaded are never evicted
    if (loaded.keep) {
      it->second.loading = {};
      it->second.opened = loaded.opened;
      it->second.checked = clock_();
    } else {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  promise.set_value(loaded.opened);
  return loaded.opened;
}

RasterReaders::Loaded RasterReaders::load(const std::string& provider, const std::string& bucket,
                                          const std::string& key, const std::optional<Opened>& previous) {
  const auto& store = stores_.at(provider);
  const auto& counters = counters_.at(provider);
  auto head = store->head(bucket, key);
  ++counters->heads;
  if (!head) return {{head.error(), {}}, false};
  if (previous && head->etag == previous->object.etag) {
    ++revalidations_;
    return {*previous, true};
  }
  ++parses_;
  ObjectInfo object = *head;
  auto reader = CogReader::open(ObjectRef{store, bucket, key, std::move(head).value()}, context_, counters);
  bool keep = reader.ok() || reader.error().code == ErrorCode::kBadRequest;
  return {{std::move(reader), std::move(object)}, keep};
}

Result<std::shared_ptr<RasterSource>> RasterReaders::open_image(const std::string& provider, const std::string& bucket,
                                                                const std::string& key) {
  Opened opened = open_object(provider, bucket, key);
  const bool tiff = opened.reader.ok();
  if (tiff && opened.reader.value()->info().levels.size() > 1) return std::shared_ptr<RasterSource>(*opened.reader);
  // Only a file that is no TIFF at all may be another kind of image.
  if (!tiff && opened.reader.error().client != "not a TIFF") return opened.reader.error();
  const std::string id = provider + '\n' + bucket + '\n' + key + '\n' + opened.object.etag;
  auto flat = flat_.get_or_build(id, [&]() -> FlatImageCache::FlatResult {
    if (!tiff) return load_flat(provider, bucket, key, opened.object);
    CogReader& reader = **opened.reader;
    const auto& info = reader.info();
    const int64_t max_pixels = config_.deepzoom.max_flat_pixels;
    if (int64_t{info.width} * info.height > max_pixels)
      return flat_image_too_large(info.width, info.height, max_pixels);
    return FlatImage::from_source(reader, display_bands(info));
  });
  if (!flat) return flat.error();
  return std::shared_ptr<RasterSource>(*flat);
}

FlatImageCache::FlatResult RasterReaders::load_flat(const std::string& provider, const std::string& bucket,
                                                    const std::string& key, const ObjectInfo& object) {
  const auto& store = stores_.at(provider);
  auto& counters = *counters_.at(provider);
  auto get = [&](std::optional<ByteRange> range) {
    auto r = store->get(bucket, key, range);
    ++counters.gets;
    if (r) counters.bytes += r->size();
    return r;
  };
  if (object.size == 0) return Error::bad_request("not a TIFF, PNG or JPEG image");
  auto first = get(ByteRange{0, std::min<uint64_t>(15, object.size - 1)});
  if (!first) return first.error();
  if (sniff_image(*first) == ImageKind::kOther) return Error::bad_request("not a TIFF, PNG or JPEG image");
  // No PNG or JPEG within the pixel limit is larger than 8 bytes a pixel.
  const int64_t max_pixels = config_.deepzoom.max_flat_pixels;
  if (object.size > static_cast<uint64_t>(max_pixels) * 8 + (1 << 20)) {
    return Error{ErrorCode::kPayloadTooLarge, "flat image file too large",
                 "the image file is larger than raster.deepzoom.max_flat_pixels allows"};
  }
  auto bytes = get(std::nullopt);
  if (!bytes) return bytes.error();
  auto decoded = decode_image(*bytes, max_pixels);
  if (!decoded) return decoded.error();
  return FlatImage::from_decoded(std::move(decoded).value());
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
  auto f = flat_.stats();
  metric("scigate_raster_flat_image_hits_total", "counter", "Deep zoom flat images served from memory.", f.hits);
  metric("scigate_raster_flat_image_builds_total", "counter", "Deep zoom flat images decoded (or refused).", f.builds);
  metric("scigate_raster_flat_image_bytes", "gauge", "Bytes held by decoded flat images and their pyramids.", f.bytes);
  return out.str();
}

}  // namespace scigate::raster
