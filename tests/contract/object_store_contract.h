// The ObjectStore contract (storage/object_store.h), one suite run against every backend:
// a backend's test binary instantiates it with INSTANTIATE_TEST_SUITE_P(Name,
// ObjectStoreContract, ::testing::Values(ObjectStoreBackend{...})) and links
// object_store_contract.cc. Local folders: unit_storage; S3 on radosgw: s3_store_test.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "storage/object_store.h"

namespace scigate::contract {

// What one test gets from a backend: a store, an empty bucket of its own, and a way to GET
// a presigned link as an anonymous client would (no token, no credentials).
struct StoreUnderTest {
  std::shared_ptr<ObjectStore> store;
  std::string bucket;
  std::function<Result<std::string>(const std::string& url)> fetch_link;
  std::shared_ptr<void> resources;  // what the backend needs kept until the test ends (folders)
};

struct ObjectStoreBackend {
  std::string name;  // a GoogleTest name: letters, digits, underscores
  std::function<StoreUnderTest()> make;
};

inline void PrintTo(const ObjectStoreBackend& b, std::ostream* os) { *os << b.name; }

class ObjectStoreContract : public ::testing::TestWithParam<ObjectStoreBackend> {
 protected:
  void SetUp() override {
    sut_ = GetParam().make();
    ASSERT_TRUE(sut_.store) << "backend " << GetParam().name << " could not be set up";
  }
  ObjectStore& store() { return *sut_.store; }
  const std::string& bucket() const { return sut_.bucket; }

  StoreUnderTest sut_;
};

// For INSTANTIATE_TEST_SUITE_P's fourth argument: tests named after the backend.
inline std::string backend_name(const ::testing::TestParamInfo<ObjectStoreBackend>& info) { return info.param.name; }

}  // namespace scigate::contract
