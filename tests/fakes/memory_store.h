// MemoryStore: an ObjectStore holding objects in memory, for tests that need exact
// control over bytes and ETags (every put gives a new ETag). Ranged GETs behave as S3's:
// a range starting past the end fails, one ending past it is cut. list, get_to_file,
// put_file and presign_get are not needed by its users and fail.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "storage/object_store.h"

namespace scigate::testing {

class MemoryStore final : public ObjectStore {
 public:
  explicit MemoryStore(std::string provider = "mem") : provider_(std::move(provider)) {}

  const std::string& provider_name() const override { return provider_; }
  Result<ListPage> list(const ListRequest&) override { return unsupported(); }
  Result<ObjectInfo> head(const std::string& bucket, const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(bucket + "/" + key);
    if (it == objects_.end()) return Error::not_found("no such object: " + key);
    return ObjectInfo{key, it->second.data.size(), {}, it->second.etag};
  }
  Result<std::string> get(const std::string& bucket, const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(bucket + "/" + key);
    if (it == objects_.end()) return Error::not_found("no such object: " + key);
    const std::string& data = it->second.data;
    if (!range) return data;
    if (range->first >= data.size()) return Error{ErrorCode::kRangeNotSatisfiable, "range", "range"};
    uint64_t last = std::min<uint64_t>(range->last.value_or(data.size() - 1), data.size() - 1);
    return data.substr(range->first, last - range->first + 1);
  }
  Status get_to_file(const std::string&, const std::string&, const std::filesystem::path&) override {
    return unsupported();
  }
  Status put(const std::string& bucket, const std::string& key, std::string_view data) override {
    std::lock_guard lock(mu_);
    objects_[bucket + "/" + key] = {std::string(data), "etag-" + std::to_string(++version_)};
    return ok_status();
  }
  Status put_file(const std::string&, const std::string&, const std::filesystem::path&) override {
    return unsupported();
  }
  Status remove(const std::string& bucket, const std::string& key) override {
    std::lock_guard lock(mu_);
    objects_.erase(bucket + "/" + key);
    return ok_status();
  }
  Result<std::string> presign_get(const std::string&, const std::string&, std::chrono::milliseconds) override {
    return unsupported();
  }

 private:
  static Error unsupported() { return Error::internal_error("not supported by MemoryStore"); }
  struct Object {
    std::string data;
    std::string etag;
  };
  std::string provider_;
  std::mutex mu_;
  std::map<std::string, Object> objects_;
  int version_ = 0;
};

}  // namespace scigate::testing
