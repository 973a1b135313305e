// FaultyStore: fault injection as a decorator over a real ObjectStore. Forwards every
// call; a test's hooks run first on list and get_to_file (with the call's 1-based number)
// and can fail the call, change the store under it or hold it back; after_get sees how
// each get_to_file ended.
#pragma once

#include <atomic>
#include <functional>

#include "storage/object_store.h"

namespace scigate::testing {

class FaultyStore final : public ObjectStore {
 public:
  explicit FaultyStore(ObjectStore& inner) : inner_(inner) {}

  // An error returned fails the call without forwarding it.
  std::function<Status(int n)> before_list;
  std::function<Status(int n, const std::string& key)> before_get;
  std::function<void(int n, const Status& result)> after_get;
  std::atomic<int> lists{0};
  std::atomic<int> gets{0};

  const std::string& provider_name() const override { return inner_.provider_name(); }
  Result<ListPage> list(const ListRequest& request) override {
    int n = ++lists;
    if (before_list) {
      if (auto st = before_list(n); !st) return st.error();
    }
    return inner_.list(request);
  }
  Result<ObjectInfo> head(const std::string& bucket, const std::string& key) override {
    return inner_.head(bucket, key);
  }
  Result<std::string> get(const std::string& bucket, const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override {
    return inner_.get(bucket, key, range);
  }
  Status get_to_file(const std::string& bucket, const std::string& key,
                     const std::filesystem::path& destination) override {
    int n = ++gets;
    Status st = before_get ? before_get(n, key) : ok_status();
    if (st) st = inner_.get_to_file(bucket, key, destination);
    if (after_get) after_get(n, st);
    return st;
  }
  Status put(const std::string& bucket, const std::string& key, std::string_view data) override {
    return inner_.put(bucket, key, data);
  }
  Status put_file(const std::string& bucket, const std::string& key, const std::filesystem::path& source) override {
    return inner_.put_file(bucket, key, source);
  }
  Status remove(const std::string& bucket, const std::string& key) override { return inner_.remove(bucket, key); }
  Result<std::string> presign_get(const std::string& bucket, const std::string& key,
                                  std::chrono::milliseconds ttl) override {
    return inner_.presign_get(bucket, key, ttl);
  }

 private:
  ObjectStore& inner_;
};

}  // namespace scigate::testing
