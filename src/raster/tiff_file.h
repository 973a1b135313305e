// The libtiff side of the COG reader: TIFF handles over bytes held in memory instead of a
// file, with libtiff's messages captured per handle (never printed, never through
// libtiff's process-wide handlers) and GDAL's private tags (GDAL_METADATA 42112,
// GDAL_NODATA 42113) and the GeoTIFF tags registered, so that TIFFGetField reads them.
//
// Two kinds of handle share one SparseBytes:
//  * the parse handle (cog_header.cc) may fetch missing bytes through a callback while
//    libtiff walks the IFDs; everything fetched stays in the SparseBytes;
//  * decode handles (cog_reader.cc) only read what the parse fetched: they re-read the
//    same IFDs, never any pixel data, which TIFFReadFromUserBuffer takes from a buffer.
//
// Thread safety: a TiffHandle is used by one thread at a time. A SparseBytes is written
// only by the one parse that fills it, then read by any number of handles at once.
#pragma once

#include <tiffio.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"

namespace scigate::raster::detail {

// Sparse bytes of one file: the parts fetched so far, non-overlapping, keyed by offset.
class SparseBytes {
 public:
  void add(uint64_t offset, std::string data);
  // True when [offset, offset + n) is held; then copies it into `out`.
  bool copy(uint64_t offset, size_t n, char* out) const;
  bool covers(uint64_t offset, size_t n) const;
  size_t size() const { return total_; }  // bytes held

 private:
  std::map<uint64_t, std::string> parts_;
  size_t total_ = 0;
};

// Fetches the inclusive byte range [first, last] of the file (may return fewer bytes at
// its end). Failure: the store's error.
using RangeFetch = std::function<Result<std::string>(uint64_t first, uint64_t last)>;

class TiffHandle {
 public:
  // Opens a TIFF of `file_size` bytes over `bytes`, fetching the bytes missing from it
  // (read ahead, at most `fetch_budget` bytes in all) and adding them to it.
  // Failure: kBadRequest "corrupt TIFF: ..." with libtiff's message, or the fetch's error.
  static Result<TiffHandle> open_fetching(SparseBytes* bytes, uint64_t file_size, RangeFetch fetch,
                                          uint64_t fetch_budget);
  // Opens over bytes already fetched: a missing byte reads as the end of the file.
  static Result<TiffHandle> open_cached(const SparseBytes& bytes, uint64_t file_size);
  TiffHandle(TiffHandle&&) noexcept;
  TiffHandle& operator=(TiffHandle&&) noexcept;
  ~TiffHandle();

  TIFF* get() const { return tif_.get(); }
  // The error that made the last libtiff call fail, as a kBadRequest "corrupt TIFF: ...",
  // or the fetch's own error (an S3 failure is not the file's fault). Clears it.
  Error take_error(const std::string& fallback);
  bool has_error() const;
  void clear_error();

  struct Stream;  // libtiff's client data: position, bytes, captured messages

 private:
  struct Closer {
    void operator()(TIFF* tif) const { TIFFClose(tif); }
  };
  TiffHandle() = default;
  static Result<TiffHandle> open(std::unique_ptr<Stream> stream);
  std::unique_ptr<Stream> stream_;  // outlives tif_: TIFFClose still calls into it
  std::unique_ptr<TIFF, Closer> tif_;
};

// A kBadRequest naming the file as corrupt, for every decoding failure.
Error corrupt(const std::string& what);

}  // namespace scigate::raster::detail
