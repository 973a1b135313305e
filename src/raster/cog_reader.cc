#include "raster/cog_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <latch>

namespace scigate::raster {

using detail::CogHeader;
using detail::Directory;
using detail::TiffHandle;

namespace {

// Two blocks whose bytes are at most this far apart come in one GET: a request costs
// more (tens of ms on S3) than reading that many extra bytes. Also bridges the 8-byte
// leader/trailer GDAL's COG driver puts around each tile.
constexpr uint64_t kMaxMergeGap = 256 << 10;
constexpr uint64_t kMaxMergedBytes = 16 << 20;
// Decode handles kept per file (all IFDs together): opening one costs ~0.1 ms against
// ~2 ms to decode a block, so a few suffice, and idle ones of many files add up.
constexpr size_t kMaxIdleHandles = 4;

Error bad_request(const std::string& msg) { return Error::bad_request(msg); }

// 1-bit samples (masks, bilevel images), most significant bit first, each row padded
// to a byte: one byte per sample.
std::vector<uint8_t> unpack_bits(const std::vector<uint8_t>& packed, const Directory& d, int rows) {
  size_t per_row = static_cast<size_t>(d.block_width) * d.block_samples();
  size_t row_bytes = d.decoded_row_bytes();
  std::vector<uint8_t> out(per_row * rows);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* src = packed.data() + r * row_bytes;
    uint8_t* dst = out.data() + r * per_row;
    for (size_t i = 0; i < per_row; ++i) dst[i] = (src[i >> 3] >> (7 - (i & 7))) & 1;
  }
  return out;
}

// Where one block lands in the output window.
struct Placement {
  int block_width = 0;                         // pixels per block row in the decoded data
  int samples = 1;                             // samples per pixel in the decoded data
  int sample = 0;                              // which one
  int col0 = 0, col1 = 0, row0 = 0, row1 = 0;  // part of the block used (block pixels)
  int out_x = 0, out_y = 0;                    // where col0/row0 land in the window
};

template <typename T>
void copy_samples(const uint8_t* data, const Placement& p, double* out, int out_width) {
  for (int r = p.row0; r < p.row1; ++r) {
    const uint8_t* line = data + static_cast<size_t>(r) * p.block_width * p.samples * sizeof(T);
    double* dst = out + static_cast<size_t>(p.out_y + r - p.row0) * out_width + p.out_x;
    for (int c = p.col0; c < p.col1; ++c) {
      T v;
      std::memcpy(&v, line + (static_cast<size_t>(c) * p.samples + p.sample) * sizeof(T), sizeof(T));
      dst[c - p.col0] = static_cast<double>(v);
    }
  }
}

void copy_block(DataType type, const uint8_t* data, const Placement& p, double* out, int out_width) {
  switch (type) {
    case DataType::kUInt8:
      return copy_samples<uint8_t>(data, p, out, out_width);
    case DataType::kInt8:
      return copy_samples<int8_t>(data, p, out, out_width);
    case DataType::kUInt16:
      return copy_samples<uint16_t>(data, p, out, out_width);
    case DataType::kInt16:
      return copy_samples<int16_t>(data, p, out, out_width);
    case DataType::kUInt32:
      return copy_samples<uint32_t>(data, p, out, out_width);
    case DataType::kInt32:
      return copy_samples<int32_t>(data, p, out, out_width);
    case DataType::kFloat32:
      return copy_samples<float>(data, p, out, out_width);
    case DataType::kFloat64:
      return copy_samples<double>(data, p, out, out_width);
  }
}

// The window's intersection with a level, and the blocks of `dir` it touches.
struct Coverage {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // level pixels, [x0, x1) × [y0, y1)
  int bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
  int cols() const { return bx1 - bx0 + 1; }
  int rows() const { return by1 - by0 + 1; }
};

// The window's part inside the level, [x0, x1) x [y0, y1) in level pixels.
struct Region {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

std::optional<Region> clip(const Window& w, const Directory& d) {
  int64_t x0 = std::max<int64_t>(w.x, 0), y0 = std::max<int64_t>(w.y, 0);
  int64_t x1 = std::min<int64_t>(int64_t{w.x} + w.width, d.width);
  int64_t y1 = std::min<int64_t>(int64_t{w.y} + w.height, d.height);
  if (x0 >= x1 || y0 >= y1) return std::nullopt;
  return Region{static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1), static_cast<int>(y1)};
}

Coverage coverage(const Directory& d, const Region& r) {
  return {r.x0,
          r.y0,
          r.x1,
          r.y1,
          r.x0 / d.block_width,
          r.y0 / d.block_height,
          (r.x1 - 1) / d.block_width,
          (r.y1 - 1) / d.block_height};
}

// The blocks of one plane of a directory that a read covers; its blocks are
// blocks[first .. first + cols * rows), row-major.
struct Part {
  const Directory* dir = nullptr;
  Coverage cov;
  size_t first = 0;
};

// Copies sample `sample` of the part's blocks into `out` (the window's pixels).
// Sparse blocks are skipped: their pixels keep what `out` held.
void copy_part(const Part& part, const std::vector<BlockPtr>& blocks, DataType type, int sample, const Window& w,
               double* out) {
  const Directory& d = *part.dir;
  const Coverage& c = part.cov;
  for (int by = c.by0; by <= c.by1; ++by) {
    for (int bx = c.bx0; bx <= c.bx1; ++bx) {
      const Block& block = *blocks[part.first + static_cast<size_t>(by - c.by0) * c.cols() + (bx - c.bx0)];
      if (block.data.empty()) continue;
      Placement p;
      p.block_width = d.block_width;
      p.samples = d.block_samples();
      p.sample = sample;
      int px = bx * d.block_width, py = by * d.block_height;
      p.col0 = std::max(c.x0, px) - px;
      p.col1 = std::min(c.x1, px + d.block_width) - px;
      p.row0 = std::max(c.y0, py) - py;
      p.row1 = std::min(c.y1, py + d.block_rows(by)) - py;
      p.out_x = px + p.col0 - w.x;
      p.out_y = py + p.row0 - w.y;
      copy_block(type, block.data.data(), p, out, w.width);
    }
  }
}

// Inside the level a pixel is valid unless all of the first `checked` bands are nodata
// (as rasterio's dataset mask), any of them is NaN (no colour for it), or its alpha is 0.
void mark_valid(const RasterInfo& info, const std::vector<std::vector<double>>& values, size_t checked, int alpha_slot,
                const Region& r, const Window& w, std::vector<uint8_t>& valid) {
  const bool is_float = info.type == DataType::kFloat32 || info.type == DataType::kFloat64;
  for (int y = r.y0; y < r.y1; ++y) {
    for (int x = r.x0; x < r.x1; ++x) {
      size_t o = static_cast<size_t>(y - w.y) * w.width + static_cast<size_t>(x - w.x);
      bool all_nodata = info.nodata.has_value(), any_nan = false;
      for (size_t i = 0; i < checked; ++i) {
        double v = values[i][o];
        any_nan = any_nan || (is_float && std::isnan(v));
        all_nodata = all_nodata && (std::isnan(*info.nodata) ? std::isnan(v) : v == *info.nodata);
      }
      bool ok = !all_nodata && !any_nan && !(alpha_slot >= 0 && values[alpha_slot][o] == 0);
      valid[o] = ok ? 255 : 0;
    }
  }
}

}  // namespace

struct CogReader::BlockRef {
  const Directory* dir = nullptr;
  uint32_t strile = 0;
  int block_row = 0;
  BlockKey key;
};

struct CogReader::Claim {
  const BlockRef* ref = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::optional<BlockResult> result;
};

CogReader::CogReader(ObjectRef object, CogHeader header, std::shared_ptr<ReaderContext> context,
                     std::shared_ptr<IoCounters> counters)
    : object_(std::move(object)),
      header_(std::move(header)),
      context_(std::move(context)),
      counters_(std::move(counters)) {
  file_id_ = object_.store->provider_name() + '\n' + object_.bucket + '\n' + object_.key + '\n' + object_.object.etag;
}

CogReader::~CogReader() = default;

Result<std::shared_ptr<CogReader>> CogReader::open(ObjectRef object, std::shared_ptr<ReaderContext> context,
                                                   std::shared_ptr<IoCounters> counters) {
  auto fetch = [&](uint64_t first, uint64_t last) -> Result<std::string> {
    auto r = object.store->get(object.bucket, object.key, ByteRange{first, last});
    ++counters->gets;
    if (r) counters->bytes += r->size();
    return r;
  };
  auto header = detail::parse_cog_header(object.object.size, fetch);
  if (!header) return header.error();
  return std::shared_ptr<CogReader>(
      new CogReader(std::move(object), std::move(header).value(), std::move(context), std::move(counters)));
}

Status CogReader::check_request(int level, const Window& w, const std::vector<int>& bands) const {
  if (level < 0 || level >= static_cast<int>(header_.levels.size()))
    return bad_request("no level " + std::to_string(level));
  if (bands.empty()) return bad_request("no band selected");
  for (int b : bands) {
    if (b < 1 || b > header_.info.band_count) return bad_request("no band " + std::to_string(b));
  }
  if (w.width <= 0 || w.height <= 0) return bad_request("empty window");
  uint64_t pixels = static_cast<uint64_t>(w.width) * static_cast<uint64_t>(w.height);
  if (pixels * (bands.size() + 1) > kMaxWindowValues) return bad_request("window too large");
  return ok_status();
}

Result<Image> CogReader::read(int level, const Window& w, const std::vector<int>& bands) {
  if (auto st = check_request(level, w, bands); !st) return st.error();
  const RasterInfo& info = header_.info;
  const Directory& dir = header_.levels[level];
  const int mask_index = header_.mask_of_level[level];

  // The alpha band is read too (it decides `valid`) even when not asked for.
  std::vector<int> read_bands = bands;
  int alpha_slot = -1;
  if (info.alpha_band > 0) {
    auto it = std::find(read_bands.begin(), read_bands.end(), info.alpha_band);
    if (it == read_bands.end()) it = read_bands.insert(read_bands.end(), info.alpha_band);
    alpha_slot = static_cast<int>(it - read_bands.begin());
  }
  const size_t pixels = static_cast<size_t>(w.width) * static_cast<size_t>(w.height);
  std::vector<std::vector<double>> values(read_bands.size(), std::vector<double>(pixels, info.nodata.value_or(0.0)));
  Image img;
  img.width = w.width;
  img.height = w.height;
  img.type = info.type;
  img.valid.assign(pixels, 0);

  if (auto region = clip(w, dir)) {
    // Which blocks: one part per plane read (contiguous samples: one plane for all
    // bands), then the mask's; each part's blocks row-major.
    std::vector<Part> parts;
    std::vector<BlockRef> refs;
    auto add_part = [&](const Directory& d, int plane) {
      parts.push_back({&d, coverage(d, *region), refs.size()});
      const Coverage& c = parts.back().cov;
      for (int by = c.by0; by <= c.by1; ++by) {
        for (int bx = c.bx0; bx <= c.bx1; ++bx) {
          uint32_t s = d.strile(bx, by, plane);
          refs.push_back({&d, s, by, BlockKey{file_id_, static_cast<uint32_t>(d.ifd), s}});
        }
      }
    };
    if (dir.separate) {
      for (int b : read_bands) add_part(dir, b - 1);
    } else {
      add_part(dir, 0);
    }
    if (mask_index >= 0) add_part(header_.masks[mask_index], 0);

    auto got = blocks(refs);
    if (!got) return got.error();
    for (size_t i = 0; i < read_bands.size(); ++i) {
      const Part& part = parts[dir.separate ? i : 0];
      copy_part(part, *got, dir.type, dir.separate ? 0 : read_bands[i] - 1, w, values[i].data());
    }
    mark_valid(info, values, bands.size(), alpha_slot, *region, w, img.valid);
    if (mask_index >= 0) {
      std::vector<double> mask(pixels, 0.0);  // a sparse mask block masks everything
      copy_part(parts.back(), *got, DataType::kUInt8, 0, w, mask.data());
      for (size_t o = 0; o < pixels; ++o) {
        if (mask[o] == 0) img.valid[o] = 0;
      }
    }
  }
  values.resize(bands.size());
  img.bands = std::move(values);
  return img;
}

Result<std::vector<BlockPtr>> CogReader::blocks(const std::vector<BlockRef>& refs) {
  BlockCache& cache = context_->cache;
  std::vector<BlockPtr> out(refs.size());
  std::vector<std::shared_future<BlockResult>> waits(refs.size());
  std::vector<Claim> claims;
  std::vector<size_t> claim_slot;
  claims.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    auto l = cache.lookup_or_claim(refs[i].key);
    if (l.block) {
      out[i] = std::move(l.block);
    } else if (!l.claimed) {
      waits[i] = std::move(l.pending);
    } else {
      const BlockRef& r = refs[i];
      claims.push_back({&r, r.dir->offsets[r.strile], r.dir->byte_counts[r.strile], std::nullopt});
      claim_slot.push_back(i);
    }
  }

  // Sparse blocks and impossible ranges end now; the rest is grouped into GETs.
  std::vector<Claim*> pending;
  for (auto& c : claims) {
    const BlockRef& r = *c.ref;
    if (c.size == 0 || c.offset == 0) {
      c.result = BlockPtr(std::make_shared<Block>());
    } else if (c.offset > header_.file_size || c.size > header_.file_size - c.offset) {
      c.result = detail::corrupt("block past the end of the file");
    } else if (c.size > 4 * r.dir->decoded_row_bytes() * r.dir->block_height + (1 << 20)) {
      // No codec expands data this much: a corrupt byte count, not a block to fetch.
      c.result = detail::corrupt("block byte count too large");
    } else {
      pending.push_back(&c);
      continue;
    }
    cache.complete(r.key, *c.result);
  }
  std::sort(pending.begin(), pending.end(), [](const Claim* a, const Claim* b) { return a->offset < b->offset; });
  std::vector<std::vector<Claim*>> groups;
  uint64_t group_first = 0, group_end = 0;
  for (Claim* c : pending) {
    uint64_t end = c->offset + c->size;
    if (!groups.empty() && c->offset <= group_end + kMaxMergeGap && end - group_first <= kMaxMergedBytes) {
      groups.back().push_back(c);
      group_end = std::max(group_end, end);
    } else {
      groups.push_back({c});
      group_first = c->offset;
      group_end = end;
    }
  }
  // All GETs of this read at once: the first on this thread, the others on the pool.
  if (!groups.empty()) {
    std::latch done(static_cast<std::ptrdiff_t>(groups.size() - 1));
    for (size_t g = 1; g < groups.size(); ++g) {
      context_->pool.submit([this, &groups, &done, g] {
        fetch_group(groups[g]);
        done.count_down();
      });
    }
    fetch_group(groups[0]);
    done.wait();
  }

  std::optional<Error> failure;
  for (size_t c = 0; c < claims.size(); ++c) {
    BlockResult& r = *claims[c].result;
    if (r) {
      out[claim_slot[c]] = *r;
    } else if (!failure) {
      failure = r.error();
    }
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!waits[i].valid()) continue;
    const BlockResult& r = waits[i].get();
    if (r) {
      out[i] = *r;
    } else if (!failure) {
      failure = r.error();
    }
  }
  if (failure) return *failure;
  return out;
}

void CogReader::fetch_group(const std::vector<Claim*>& group) {
  try {
    fetch_group_or_throw(group);
  } catch (const std::exception& e) {
    // Out of memory, most likely: every claim must still end, or its waiters hang.
    for (Claim* c : group) {
      if (c->result) continue;
      c->result = Error::internal_error(std::string("reading a block: ") + e.what());
      context_->cache.complete(c->ref->key, *c->result);
    }
  }
}

void CogReader::fetch_group_or_throw(const std::vector<Claim*>& group) {
  uint64_t first = group.front()->offset, last = 0;
  for (const Claim* c : group) last = std::max(last, c->offset + c->size - 1);
  auto bytes = object_.store->get(object_.bucket, object_.key, ByteRange{first, last});
  ++counters_->gets;
  if (bytes) counters_->bytes += bytes->size();
  for (Claim* c : group) {
    const BlockRef& ref = *c->ref;
    if (!bytes) {
      c->result = bytes.error();
    } else if (c->offset - first + c->size > bytes->size()) {
      c->result = detail::corrupt("the file is shorter than its header says");
    } else {
      c->result = decode(ref, bytes->substr(c->offset - first, c->size));
    }
    context_->cache.complete(ref.key, *c->result);
  }
}

BlockResult CogReader::decode(const BlockRef& ref, std::string raw) {
  const Directory& d = *ref.dir;
  int rows = d.block_rows(ref.block_row);
  uint64_t size = d.decoded_row_bytes() * rows;
  std::vector<uint8_t> out(size);
  auto handle = take_handle(d);
  if (!handle) return handle.error();
  if (!TIFFReadFromUserBuffer(handle->get(), ref.strile, raw.data(), static_cast<tmsize_t>(raw.size()), out.data(),
                              static_cast<tmsize_t>(size))) {
    return handle->take_error("cannot decode a block");  // the handle is dropped: its codec state is suspect
  }
  give_back(d.ifd, std::move(handle).value());
  if (d.bits == 1) out = unpack_bits(out, d, rows);
  return BlockPtr(std::make_shared<Block>(Block{std::move(out)}));
}

Result<TiffHandle> CogReader::take_handle(const Directory& dir) {
  {
    std::lock_guard lock(handles_mu_);
    auto& idle = idle_handles_[dir.ifd];
    if (!idle.empty()) {
      TiffHandle h = std::move(idle.back());
      idle.pop_back();
      --idle_handle_count_;
      return h;
    }
  }
  auto h = TiffHandle::open_cached(*header_.bytes, header_.file_size);
  if (!h) return h.error();
  const bool set = dir.sub_offset ? TIFFSetSubDirectory(h->get(), dir.sub_offset)
                                  : TIFFSetDirectory(h->get(), static_cast<tdir_t>(dir.ifd));
  if (!set) return h->take_error("cannot read an IFD");
  if (dir.jpeg_ycbcr) TIFFSetField(h->get(), TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  return h;
}

void CogReader::give_back(int ifd, TiffHandle handle) {
  std::lock_guard lock(handles_mu_);
  if (idle_handle_count_ >= kMaxIdleHandles) return;
  idle_handles_[ifd].push_back(std::move(handle));
  ++idle_handle_count_;
}

}  // namespace scigate::raster
