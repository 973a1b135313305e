// What every CredentialsProvider kind guarantees (credentials_contract.h says how to run it).
#include "credentials_contract.h"

#include <set>
#include <thread>
#include <vector>

namespace scigate::contract {
namespace {

TEST_P(CredentialsContract, BuildingFetchesNothing) {
  if (sut_.fetches) EXPECT_EQ(sut_.fetches(), 0);
}

TEST_P(CredentialsContract, CurrentAnswersUsableKeysAndKeepsThem) {
  provider().start();
  auto first = provider().current();
  ASSERT_TRUE(first) << first.error().internal;
  EXPECT_FALSE((*first)->access_key_id.empty());
  EXPECT_EQ((*first)->secret_access_key, sut_.secret);
  auto second = provider().current();
  ASSERT_TRUE(second);
  EXPECT_EQ(first->get(), second->get());  // the same credentials, not a fetch per call
  if (sut_.fetches) EXPECT_EQ(sut_.fetches(), 1);
}

TEST_P(CredentialsContract, ConcurrentFirstUseIsOneFetch) {
  std::vector<std::thread> callers;
  std::vector<const AwsCredentials*> seen(16);
  for (size_t i = 0; i < seen.size(); ++i) {
    callers.emplace_back([&, i] {
      auto c = provider().current();
      seen[i] = c ? c->get() : nullptr;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(std::set<const AwsCredentials*>(seen.begin(), seen.end()).size(), 1u);
  EXPECT_NE(seen[0], nullptr);
  if (sut_.fetches) EXPECT_EQ(sut_.fetches(), 1);
}

TEST_P(CredentialsContract, DescribeNamesTheKindNeverTheSecret) {
  ASSERT_TRUE(provider().current());
  std::string text = provider().describe();
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.find(sut_.secret), std::string::npos);
  EXPECT_EQ(provider().state().last_error.find(sut_.secret), std::string::npos);
}

TEST_P(CredentialsContract, LifecycleIsIdempotentAndKeepsTheLastGoodKeys) {
  provider().start();
  provider().start();
  auto before = provider().current();
  ASSERT_TRUE(before);
  provider().stop();
  provider().stop();
  auto after = provider().current();
  ASSERT_TRUE(after) << after.error().internal;
  EXPECT_EQ((*after)->access_key_id, (*before)->access_key_id);
}

// Fixed keys track nothing; a rotating kind reports what it fetched.
TEST_P(CredentialsContract, StateAgreesWithWhatWasFetched) {
  CredentialsState fresh = provider().state();
  EXPECT_FALSE(fresh.has_credentials);
  ASSERT_TRUE(provider().current());
  CredentialsState s = provider().state();
  if (!s.rotating) {
    EXPECT_FALSE(sut_.fetches);
    EXPECT_FALSE(s.has_credentials);
    EXPECT_EQ(s.refreshes, 0u);
    return;
  }
  EXPECT_TRUE(s.has_credentials);
  EXPECT_TRUE(s.valid);
  EXPECT_EQ(s.refreshes, 1u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_TRUE(s.last_refresh.has_value());
  EXPECT_TRUE(s.last_error.empty());
}

TEST_P(CredentialsContract, AFailingSourceIs503NamingTheProviderWithoutSecrets) {
  if (!GetParam().make_failing) GTEST_SKIP() << "fixed keys cannot fail";
  CredentialsUnderTest failing = GetParam().make_failing();
  ASSERT_TRUE(failing.provider);
  auto c = failing.provider->current();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(c.error().client.find("contract"), std::string::npos) << c.error().client;
  EXPECT_EQ(c.error().client.find(failing.secret), std::string::npos);
  CredentialsState s = failing.provider->state();
  EXPECT_TRUE(s.rotating);
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_FALSE(s.last_error.empty());
}

}  // namespace
}  // namespace scigate::contract
