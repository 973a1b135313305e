#include "raster/flat_image.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "raster/cog_reader.h"
#include "raster/render.h"

namespace scigate::raster {

namespace {

// Values (pixels x bands) of one strip read from a source while building: 32 MiB of doubles.
constexpr uint64_t kStripValues = uint64_t{1} << 22;
// Verdicts (not images) kept at most, so that failing names cannot grow the cache unbounded.
constexpr size_t kMaxEntries = 4096;

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// One level down: ceil halves, each pixel (a + b + c + d + 2) / 4 of the 2x2 below with
// the last row and column repeated when a side is odd (vips's mean shrink and edge copy).
template <typename T>
std::vector<uint8_t> halve(const std::vector<uint8_t>& in, int w, int h, int bands, int ow, int oh) {
  std::vector<uint8_t> out(static_cast<size_t>(ow) * oh * bands * sizeof(T));
  const size_t row = static_cast<size_t>(w) * bands;
  const auto* src = in.data();
  for (int y = 0; y < oh; ++y) {
    const size_t r0 = static_cast<size_t>(2 * y) * row, r1 = static_cast<size_t>(std::min(2 * y + 1, h - 1)) * row;
    for (int x = 0; x < ow; ++x) {
      const size_t c0 = static_cast<size_t>(2 * x) * bands;
      const size_t c1 = static_cast<size_t>(std::min(2 * x + 1, w - 1)) * bands;
      uint8_t* dst = out.data() + (static_cast<size_t>(y) * ow + x) * bands * sizeof(T);
      for (int b = 0; b < bands; ++b) {
        const uint32_t sum = uint32_t{load<T>(src + (r0 + c0 + b) * sizeof(T))} +
                             load<T>(src + (r0 + c1 + b) * sizeof(T)) + load<T>(src + (r1 + c0 + b) * sizeof(T)) +
                             load<T>(src + (r1 + c1 + b) * sizeof(T));
        store<T>(dst + b * sizeof(T), static_cast<T>((sum + 2) / 4));
      }
    }
  }
  return out;
}

// The part of `w` inside a plane of width x height: [x0, x1) x [y0, y1).
struct Clip {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

template <typename T>
void copy_window(const std::vector<uint8_t>& plane, int plane_width, int bands, const Clip& c, const Window& w,
                 const std::vector<int>& wanted, int alpha_band, Image& img) {
  for (int y = c.y0; y < c.y1; ++y) {
    for (int x = c.x0; x < c.x1; ++x) {
      const uint8_t* px = plane.data() + (static_cast<size_t>(y) * plane_width + x) * bands * sizeof(T);
      const size_t o = static_cast<size_t>(y - w.y) * w.width + (x - w.x);
      for (size_t i = 0; i < wanted.size(); ++i) img.bands[i][o] = load<T>(px + (wanted[i] - 1) * sizeof(T));
      img.valid[o] = alpha_band == 0 || load<T>(px + (alpha_band - 1) * sizeof(T)) != 0 ? 255 : 0;
    }
  }
}

}  // namespace

std::shared_ptr<FlatImage> FlatImage::from_decoded(DecodedImage image) {
  std::shared_ptr<FlatImage> flat(new FlatImage());
  RasterInfo& info = flat->info_;
  info.width = image.width;
  info.height = image.height;
  info.band_count = image.bands;
  info.type = image.sample_bytes == 2 ? DataType::kUInt16 : DataType::kUInt8;
  info.alpha_band = image.alpha ? image.bands : 0;
  info.photometric = image.bands >= 3 ? "rgb" : "minisblack";
  flat->sample_bytes_ = image.sample_bytes;
  flat->levels_.push_back({image.width, image.height, std::move(image.samples)});
  flat->build_levels();
  return flat;
}

Result<std::shared_ptr<FlatImage>> FlatImage::from_source(RasterSource& source, const std::vector<int>& bands) {
  const RasterInfo& src = source.info();
  std::shared_ptr<FlatImage> flat(new FlatImage());
  const bool keep16 = src.type == DataType::kUInt16;
  const bool alpha = src.nodata.has_value() || src.has_mask || src.alpha_band > 0;
  const int nb = static_cast<int>(bands.size()) + (alpha ? 1 : 0);
  RasterInfo& info = flat->info_;
  info.width = src.width;
  info.height = src.height;
  info.band_count = nb;
  info.type = keep16 ? DataType::kUInt16 : DataType::kUInt8;
  info.alpha_band = alpha ? nb : 0;
  info.photometric = bands.size() >= 3 ? "rgb" : "minisblack";
  flat->sample_bytes_ = keep16 ? 2 : 1;
  const size_t bytes = flat->sample_bytes_;
  const double top = keep16 ? 65535 : 255;
  Plane plane{src.width, src.height, std::vector<uint8_t>(static_cast<size_t>(src.width) * src.height * nb * bytes)};
  const int rows = static_cast<int>(std::max<uint64_t>(1, kStripValues / (uint64_t(src.width) * (nb + 1))));
  for (int y = 0; y < src.height; y += rows) {
    const Window w{0, y, src.width, std::min(rows, src.height - y)};
    auto strip = source.read(0, w, bands);
    if (!strip) return strip.error();
    if (src.type != DataType::kUInt8 && !keep16) *strip = rescale(*strip, {type_range(src.type)});
    const size_t pixels = static_cast<size_t>(w.width) * w.height;
    uint8_t* dst = plane.samples.data() + static_cast<size_t>(y) * src.width * nb * bytes;
    for (size_t p = 0; p < pixels; ++p) {
      for (int b = 0; b < nb; ++b) {
        const double v = b < static_cast<int>(bands.size()) ? strip->bands[b][p] : strip->valid[p] ? top : 0;
        const double clamped = std::isnan(v) ? 0 : std::clamp(std::round(v), 0.0, top);
        uint8_t* at = dst + (p * nb + b) * bytes;
        if (keep16) {
          store<uint16_t>(at, static_cast<uint16_t>(clamped));
        } else {
          *at = static_cast<uint8_t>(clamped);
        }
      }
    }
  }
  flat->levels_.push_back(std::move(plane));
  flat->build_levels();
  return flat;
}

void FlatImage::build_levels() {
  const int bands = info_.band_count;
  while (levels_.back().width > 1 || levels_.back().height > 1) {
    const Plane& in = levels_.back();
    Plane out{(in.width + 1) / 2, (in.height + 1) / 2, {}};
    out.samples = sample_bytes_ == 2 ? halve<uint16_t>(in.samples, in.width, in.height, bands, out.width, out.height)
                                     : halve<uint8_t>(in.samples, in.width, in.height, bands, out.width, out.height);
    levels_.push_back(std::move(out));
  }
  for (size_t k = 0; k < levels_.size(); ++k) {
    const Plane& p = levels_[k];
    info_.levels.push_back({p.width, p.height, p.width, p.height, static_cast<double>(uint64_t{1} << k)});
  }
  info_.compression = "none";
}

uint64_t FlatImage::bytes() const {
  uint64_t total = 0;
  for (const Plane& p : levels_) total += p.samples.size();
  return total;
}

Result<Image> FlatImage::read(int level, const Window& w, const std::vector<int>& bands) {
  if (level < 0 || level >= static_cast<int>(levels_.size()))
    return Error::bad_request("no level " + std::to_string(level));
  if (bands.empty()) return Error::bad_request("no band selected");
  for (int b : bands) {
    if (b < 1 || b > info_.band_count) return Error::bad_request("no band " + std::to_string(b));
  }
  if (w.width <= 0 || w.height <= 0) return Error::bad_request("empty window");
  const uint64_t pixels = static_cast<uint64_t>(w.width) * static_cast<uint64_t>(w.height);
  if (pixels * (bands.size() + 1) > CogReader::kMaxWindowValues) return Error::bad_request("window too large");
  const Plane& p = levels_[level];
  Image img;
  img.width = w.width;
  img.height = w.height;
  img.type = info_.type;
  img.bands.assign(bands.size(), std::vector<double>(pixels, 0.0));
  img.valid.assign(pixels, 0);
  const Clip c{std::max(w.x, 0), std::max(w.y, 0), static_cast<int>(std::min<int64_t>(int64_t{w.x} + w.width, p.width)),
               static_cast<int>(std::min<int64_t>(int64_t{w.y} + w.height, p.height))};
  if (c.x0 >= c.x1 || c.y0 >= c.y1) return img;
  if (sample_bytes_ == 2) {
    copy_window<uint16_t>(p.samples, p.width, info_.band_count, c, w, bands, info_.alpha_band, img);
  } else {
    copy_window<uint8_t>(p.samples, p.width, info_.band_count, c, w, bands, info_.alpha_band, img);
  }
  return img;
}

FlatImageCache::FlatResult FlatImageCache::get_or_build(const std::string& id,
                                                        const std::function<FlatResult()>& build) {
  std::promise<FlatResult> promise;
  {
    std::unique_lock lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      if (it->second.value) {
        ++hits_;
        return *it->second.value;
      }
      auto building = it->second.building;
      lock.unlock();
      return building.get();
    }
    lru_.push_front(id);
    Entry& e = entries_[id];
    e.lru = lru_.begin();
    e.building = promise.get_future().share();
  }
  FlatResult result = Error::internal_error("building a flat image");
  try {
    result = build();
  } catch (const std::exception& e) {
    // Out of memory, most likely: the waiters must still get an answer.
    result = Error::internal_error(std::string("building a flat image: ") + e.what());
  }
  {
    std::lock_guard lock(mu_);
    ++builds_;
    auto it = entries_.find(id);  // entries being built are never evicted
    const bool keep = result.ok() || result.error().code == ErrorCode::kBadRequest ||
                      result.error().code == ErrorCode::kPayloadTooLarge;
    if (keep) {
      it->second.value = result;
      it->second.building = {};
      it->second.bytes = result.ok() ? (*result)->bytes() : 0;
      bytes_ += it->second.bytes;
      evict_locked(id);
    } else {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  promise.set_value(result);
  return result;
}

void FlatImageCache::evict_locked(const std::string& keep) {
  auto it = lru_.end();
  while ((bytes_ > capacity_ || entries_.size() > kMaxEntries) && it != lru_.begin()) {
    --it;
    auto e = entries_.find(*it);
    if (*it == keep || e->second.building.valid()) continue;
    bytes_ -= e->second.bytes;
    entries_.erase(e);
    it = lru_.erase(it);
  }
}

FlatCacheStats FlatImageCache::stats() const {
  std::lock_guard lock(mu_);
  return {hits_, builds_, bytes_, entries_.size()};
}

}  // namespace scigate::raster
