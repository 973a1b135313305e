#include "raster/tiff_file.h"

#include <geotiff/xtiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace scigate::raster::detail {

namespace {

constexpr uint64_t kPage = 16 << 10;
// A miss while walking IFDs reads this much ahead: the next IFD and its tag data usually
// follow, so a file whose IFDs are not at its start costs a few GETs, not one per tag.
constexpr uint64_t kReadAhead = 64 << 10;
// libtiff allocates tag arrays from counts in the file before reading them; a corrupt
// count must fail here, not exhaust memory.
constexpr tmsize_t kMaxSingleAlloc = 64 << 20;

constexpr ttag_t kTagGdalMetadata = 42112;
constexpr ttag_t kTagGdalNodata = 42113;

TIFFExtendProc g_parent_extender = nullptr;

void add_gdal_tags(TIFF* tif) {
  static const TIFFFieldInfo kFields[] = {
      {kTagGdalMetadata, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, const_cast<char*>("GDALMetadata")},
      {kTagGdalNodata, -1, -1, TIFF_ASCII, FIELD_CUSTOM, 1, 0, const_cast<char*>("GDALNoDataValue")},
  };
  TIFFMergeFieldInfo(tif, kFields, sizeof(kFields) / sizeof(kFields[0]));
  if (g_parent_extender) g_parent_extender(tif);
}

// libtiff's tag extenders are process-wide by design: register ours (and libgeotiff's)
// once, before the first handle opens.
void register_tags_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    XTIFFInitialize();
    g_parent_extender = TIFFSetTagExtender(add_gdal_tags);
  });
}

}  // namespace

struct TiffHandle::Stream {
  const SparseBytes* bytes = nullptr;
  SparseBytes* writable = nullptr;  // the parse's: fetched bytes are added here
  uint64_t size = 0;
  uint64_t pos = 0;
  RangeFetch fetch;
  uint64_t fetch_budget = 0;
  uint64_t fetched = 0;
  std::string message;            // libtiff's first error since the last take_error
  std::optional<Error> io_error;  // a failed fetch

  bool ensure(uint64_t offset, size_t n) {
    if (bytes->covers(offset, n)) return true;
    if (!fetch || io_error) return false;
    uint64_t from = offset / kPage * kPage;
    uint64_t end = std::max<uint64_t>(offset + n, from + kReadAhead);
    end = std::min(size, (end + kPage - 1) / kPage * kPage);
    if (fetched + (end - from) > fetch_budget) {
      if (message.empty()) message = "header larger than " + std::to_string(fetch_budget >> 20) + " MiB";
      return false;
    }
    auto r = fetch(from, end - 1);
    if (!r) {
      io_error = r.error();
      return false;
    }
    fetched += r->size();
    writable->add(from, std::move(r).value());
    return bytes->covers(offset, n);
  }
};

namespace {

using Stream = TiffHandle::Stream;

tmsize_t read_proc(thandle_t h, void* buf, tmsize_t n) {
  auto* s = static_cast<Stream*>(h);
  if (n <= 0 || s->pos >= s->size) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(n), s->size - s->pos));
  if (!s->ensure(s->pos, want)) return 0;
  s->bytes->copy(s->pos, want, static_cast<char*>(buf));
  s->pos += want;
  return static_cast<tmsize_t>(want);
}

tmsize_t write_proc(thandle_t, void*, tmsize_t) { return 0; }

toff_t seek_proc(thandle_t h, toff_t off, int whence) {
  auto* s = static_cast<Stream*>(h);
  switch (whence) {
    case SEEK_SET:
      s->pos = off;
      break;
    case SEEK_CUR:
      s->pos += off;
      break;
    case SEEK_END:
      s->pos = s->size + off;
      break;
    default:
      return static_cast<toff_t>(-1);
  }
  return s->pos;
}

int close_proc(thandle_t) { return 0; }
toff_t size_proc(thandle_t h) { return static_cast<Stream*>(h)->size; }
int map_proc(thandle_t, void**, toff_t*) { return 0; }
void unmap_proc(thandle_t, void*, toff_t) {}

int on_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* s = static_cast<Stream*>(user);
  if (s->message.empty()) {
    char text[512];
    std::vsnprintf(text, sizeof(text), fmt, ap);
    s->message = std::string(module ? module : "libtiff") + ": " + text;
  }
  return 1;  // handled: libtiff's global handler (stderr) stays silent
}

int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

void SparseBytes::add(uint64_t offset, std::string data) {
  if (data.empty()) return;
  // Merge with every part that overlaps or touches [offset, end).
  uint64_t end = offset + data.size();
  auto it = parts_.upper_bound(offset);
  if (it != parts_.begin() && std::prev(it)->first + std::prev(it)->second.size() >= offset) --it;
  while (it != parts_.end() && it->first <= end) {
    uint64_t p_first = it->first;
    std::string& p = it->second;
    uint64_t p_end = p_first + p.size();
    if (p_first < offset) {
      data.insert(0, p, 0, offset - p_first);
      offset = p_first;
    }
    if (p_end > end) {
      data.append(p, end - p_first, std::string::npos);
      end = p_end;
    }
    total_ -= p.size();
    it = parts_.erase(it);
  }
  total_ += data.size();
  parts_.emplace(offset, std::move(data));
}

bool SparseBytes::covers(uint64_t offset, size_t n) const {
  auto it = parts_.upper_bound(offset);
  if (it == parts_.begin()) return n == 0;
  --it;
  return offset + n <= it->first + it->second.size();
}

bool SparseBytes::copy(uint64_t offset, size_t n, char* out) const {
  if (!covers(offset, n)) return false;
  if (n == 0) return true;
  auto it = std::prev(parts_.upper_bound(offset));
  std::memcpy(out, it->second.data() + (offset - it->first), n);
  return true;
}

Error corrupt(const std::string& what) { return Error::bad_request("corrupt TIFF: " + what); }

TiffHandle::TiffHandle(TiffHandle&&) noexcept = default;
TiffHandle& TiffHandle::operator=(TiffHandle&&) noexcept = default;
TiffHandle::~TiffHandle() = default;

Result<TiffHandle> TiffHandle::open_fetching(SparseBytes* bytes, uint64_t file_size, RangeFetch fetch,
                                             uint64_t fetch_budget) {
  auto s = std::make_unique<Stream>();
  s->bytes = s->writable = bytes;
  s->size = file_size;
  s->fetch = std::move(fetch);
  s->fetch_budget = fetch_budget;
  return open(std::move(s));
}

Result<TiffHandle> TiffHandle::open_cached(const SparseBytes& bytes, uint64_t file_size) {
  auto s = std::make_unique<Stream>();
  s->bytes = &bytes;
  s->size = file_size;
  return open(std::move(s));
}

Result<TiffHandle> TiffHandle::open(std::unique_ptr<Stream> stream) {
  register_tags_once();
  TiffHandle h;
  h.stream_ = std::move(stream);
  Stream& s = *h.stream_;
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, kMaxSingleAlloc);
  TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &s);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &s);
  // r: read; D: strile arrays loaded when first used, not with the IFD; m: no mmap.
  TIFF* tif = TIFFClientOpenExt("cog", "rDm", &s, read_proc, write_proc, seek_proc, close_proc, size_proc, map_proc,
                                unmap_proc, opts);
  TIFFOpenOptionsFree(opts);
  if (!tif) return h.take_error("cannot read the first IFD");
  h.tif_.reset(tif);
  return h;
}

void TiffHandle::clear_error() { stream_->message.clear(); }

bool TiffHandle::has_error() const { return !stream_->message.empty() || stream_->io_error.has_value(); }

Error TiffHandle::take_error(const std::string& fallback) {
  Error e = stream_->io_error ? *stream_->io_error : corrupt(stream_->message.empty() ? fallback : stream_->message);
  stream_->io_error.reset();
  stream_->message.clear();
  return e;
}

}  // namespace scigate::raster::detail
