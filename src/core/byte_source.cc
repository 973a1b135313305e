#include "core/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scigate {

namespace {

class FileRange final : public ByteSource {
 public:
  FileRange(int fd, uint64_t offset, uint64_t length) : fd_(fd), next_(offset), left_(length), size_(length) {}
  ~FileRange() override { ::close(fd_); }
  FileRange(const FileRange&) = delete;
  FileRange& operator=(const FileRange&) = delete;

  uint64_t size() const override { return size_; }

  size_t read(char* out, size_t max) override {
    size_t want = static_cast<size_t>(std::min<uint64_t>(max, left_));
    while (want > 0) {
      ssize_t n = ::pread(fd_, out, want, static_cast<off_t>(next_));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;
      next_ += static_cast<uint64_t>(n);
      left_ -= static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    return 0;
  }

 private:
  int fd_;
  uint64_t next_;
  uint64_t left_;
  uint64_t size_;
};

Result<int> open_regular(const std::filesystem::path& path, uint64_t& size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error::not_found("no such file: " + path.string());
    return Error::internal_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::not_found("not a regular file: " + path.string());
  }
  size = static_cast<uint64_t>(st.st_size);
  return fd;
}

// Bytes in memory, owned (a string) or borrowed (bytes that outlive every answer).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string text) : owned_(std::move(text)), bytes_(owned_) {}
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  MemorySource(const MemorySource&) = delete;  // bytes_ may point into owned_
  MemorySource& operator=(const MemorySource&) = delete;
  uint64_t size() const override { return bytes_.size(); }
  size_t read(char* out, size_t max) override {
    size_t n = std::min(max, bytes_.size() - next_);
    std::memcpy(out, bytes_.data() + next_, n);
    next_ += n;
    return n;
  }

 private:
  std::string owned_;
  std::string_view bytes_;
  size_t next_ = 0;
};

}  // namespace

std::shared_ptr<ByteSource> string_source(std::string text) { return std::make_shared<MemorySource>(std::move(text)); }

std::shared_ptr<ByteSource> static_source(std::string_view bytes) { return std::make_shared<MemorySource>(bytes); }

std::string read_all(ByteSource& source) {
  std::string out(source.size(), '\0');
  size_t got = 0;
  while (got < out.size()) {
    size_t n = source.read(out.data() + got, out.size() - got);
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

Result<std::shared_ptr<ByteSource>> open_file_range(const std::filesystem::path& path, uint64_t offset,
                                                    std::optional<uint64_t> length) {
  uint64_t size = 0;
  auto fd = open_regular(path, size);
  if (!fd) return fd.error();
  offset = std::min(offset, size);
  uint64_t n = std::min(length.value_or(size - offset), size - offset);
  return std::shared_ptr<ByteSource>(std::make_shared<FileRange>(*fd, offset, n));
}

}  // namespace scigate
