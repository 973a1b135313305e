// The CredentialsProvider contract (credentials/credentials_provider.h), one suite run
// against every kind: a test binary instantiates it with INSTANTIATE_TEST_SUITE_P(Name,
// CredentialsContract, ::testing::Values(CredentialsBackend{...})) and links
// credentials_contract.cc. All kinds: unit_credentials (credentials_contract_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "credentials/credentials_provider.h"

namespace scigate::contract {

// A provider built by the factory (make_credentials), not started, named "contract".
struct CredentialsUnderTest {
  std::shared_ptr<CredentialsProvider> provider;
  std::string secret;               // the secret access key it will answer
  std::function<int()> fetches;     // upstream fetches so far; null for fixed keys
  std::shared_ptr<void> resources;  // fake endpoints and the like
};

struct CredentialsBackend {
  std::string name;  // a GoogleTest name: letters, digits, underscores
  std::function<CredentialsUnderTest()> make;
  // The same kind whose upstream fails; null for kinds that cannot fail (fixed keys).
  std::function<CredentialsUnderTest()> make_failing;
};

inline void PrintTo(const CredentialsBackend& b, std::ostream* os) { *os << b.name; }
inline std::string credentials_backend_name(const ::testing::TestParamInfo<CredentialsBackend>& info) {
  return info.param.name;
}

class CredentialsContract : public ::testing::TestWithParam<CredentialsBackend> {
 protected:
  void SetUp() override {
    sut_ = GetParam().make();
    ASSERT_TRUE(sut_.provider) << "backend " << GetParam().name << " could not be set up";
  }
  void TearDown() override {
    if (sut_.provider) sut_.provider->stop();
  }
  CredentialsProvider& provider() { return *sut_.provider; }

  CredentialsUnderTest sut_;
};

}  // namespace scigate::contract
