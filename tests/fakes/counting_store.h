// CountingStore: a decorator over a real ObjectStore that counts HEADs and GETs (with
// their ranges and bytes), so tests can assert what a cache saved. `before_get` runs
// first on every get (e.g. to hold a GET back while other threads pile up).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "storage/object_store.h"

namespace scigate::testing {

class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  std::atomic<int> heads{0};
  std::atomic<int> gets{0};
  std::atomic<uint64_t> bytes{0};
  std::function<void(const ByteRange&)> before_get;

  std::vector<ByteRange> ranges() const {
    std::lock_guard lock(mu_);
    return ranges_;
  }
  void reset() {
    std::lock_guard lock(mu_);
    ranges_.clear();
    heads = 0;
    gets = 0;
    bytes = 0;
  }

  const std::string& provider_name() const override { return inner_->provider_name(); }
  Result<ListPage> list(const ListRequest& request) override { return inner_->list(request); }
  Result<ObjectInfo> head(const std::string& bucket, const std::string& key) override {
    ++heads;
    return inner_->head(bucket, key);
  }
  Result<std::string> get(const std::string& bucket, const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override {
    ByteRange r = range.value_or(ByteRange{});
    if (before_get) before_get(r);
    {
      std::lock_guard lock(mu_);
      ranges_.push_back(r);
    }
    ++gets;
    auto data = inner_->get(bucket, key, range);
    if (data) bytes += data->size();
    return data;
  }
  Status get_to_file(const std::string& bucket, const std::string& key,
                     const std::filesystem::path& destination) override {
    return inner_->get_to_file(bucket, key, destination);
  }
  Status put(const std::string& bucket, const std::string& key, std::string_view data) override {
    return inner_->put(bucket, key, data);
  }
  Status put_file(const std::string& bucket, const std::string& key, const std::filesystem::path& source) override {
    return inner_->put_file(bucket, key, source);
  }
  Status remove(const std::string& bucket, const std::string& key) override { return inner_->remove(bucket, key); }
  Result<std::string> presign_get(const std::string& bucket, const std::string& key,
                                  std::chrono::milliseconds ttl) override {
    return inner_->presign_get(bucket, key, ttl);
  }

 private:
  std::shared_ptr<ObjectStore> inner_;
  mutable std::mutex mu_;
  std::vector<ByteRange> ranges_;
};

}  // namespace scigate::testing
