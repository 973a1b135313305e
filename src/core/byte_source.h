// A response body read piece by piece while it is sent, so that a large answer (a file
// download, a run's log) costs a connection one chunk of memory, not the whole body,
// however slowly its client reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace scigate {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The exact number of bytes read() yields in total (sent as Content-Length).
  virtual uint64_t size() const = 0;
  // Copies up to `max` next bytes into `out`. 0 before size() bytes were read means the
  // source broke (e.g. the file shrank): the answer is then cut off. Not thread-safe.
  virtual size_t read(char* out, size_t max) = 0;
};

// The bytes [offset, offset + length) of a file; length absent = to its end. The file is
// opened now, so a missing file fails here and not halfway through an answer.
Result<std::shared_ptr<ByteSource>> open_file_range(const std::filesystem::path& path, uint64_t offset = 0,
                                                    std::optional<uint64_t> length = std::nullopt);

// Text already in memory (e.g. an answer fetched from a remote service).
std::shared_ptr<ByteSource> string_source(std::string text);

// Bytes that outlive every answer (e.g. embedded in the binary): sent in place, not copied.
std::shared_ptr<ByteSource> static_source(std::string_view bytes);

// Everything a source yields, as one string: for small sources and tests.
std::string read_all(ByteSource& source);

}  // namespace scigate
