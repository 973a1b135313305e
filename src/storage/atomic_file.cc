#include "storage/atomic_file.h"

#include "core/time_util.h"

namespace fs = std::filesystem;

namespace scigate {

Status write_file_atomically(const fs::path& target, const std::function<Status(const fs::path&)>& write) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Error::internal_error("cannot create folder " + target.parent_path().string() + ": " + ec.message());
  fs::path tmp = target.parent_path() / (std::string(kTempPrefix) + random_hex(8));
  if (auto st = write(tmp); !st) {
    fs::remove(tmp, ec);
    return st;
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Error::internal_error("cannot rename into " + target.string() + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace scigate
