#include "credentials/rotating.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "credentials/sources.h"

namespace scigate {
namespace {

using namespace std::chrono_literals;

// A settable clock shared by the test and the provider.
struct ManualClock {
  std::atomic<int64_t> ms{1'800'000'000'000};
  SystemTime now() const { return SystemTime(std::chrono::milliseconds(ms.load())); }
  void advance(std::chrono::milliseconds d) { ms += d.count(); }
};

class FakeSource final : public CredentialSource {
 public:
  FakeSource(ManualClock& clock, std::chrono::milliseconds lifetime) : clock_(clock), lifetime_(lifetime) {}
  Result<AwsCredentials> fetch() override {
    int n = ++calls;
    if (delay.count()) std::this_thread::sleep_for(delay);
    while (hold) std::this_thread::sleep_for(1ms);  // a refresh kept in flight by the test
    if (failing) return Error{ErrorCode::kUpstreamFailed, "down", "credentials endpoint failed"};
    return AwsCredentials{"AK" + std::to_string(n), "secret" + std::to_string(n), "tok", clock_.now() + lifetime_};
  }
  std::string describe() const override { return "fake"; }
  std::atomic<int> calls{0};
  std::atomic<bool> failing{false};
  std::atomic<bool> hold{false};
  std::chrono::milliseconds delay{0};

 private:
  ManualClock& clock_;
  std::chrono::milliseconds lifetime_;
};

struct Fixture {
  explicit Fixture(std::chrono::milliseconds lifetime, RotationPolicy policy = {}) {
    auto s = std::make_unique<FakeSource>(clock, lifetime);
    source = s.get();
    policy.min_backoff = 1s;
    policy.max_backoff = 2s;
    creds = std::make_unique<RotatingCredentials>("lpdaac", std::move(s), policy, [this] { return clock.now(); });
  }
  ManualClock clock;
  FakeSource* source;
  std::unique_ptr<RotatingCredentials> creds;
};

// Waits (real time) for the background refresher to catch up with the manual clock.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 100; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

TEST(Rotating, LazyFirstFetchAndThenNoUpstreamCallsPerRequest) {
  Fixture f(60min);
  f.creds->start();
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(f.source->calls, 0);  // lazy
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(f.creds->current().value()->access_key_id, "AK1");
  EXPECT_EQ(f.source->calls, 1);
}

TEST(Rotating, PrefetchFetchesAtStart) {
  RotationPolicy p;
  p.prefetch = true;
  Fixture f(60min, p);
  f.creds->start();
  EXPECT_EQ(f.source->calls, 1);
  EXPECT_TRUE(f.creds->state().valid);
}

TEST(Rotating, TwoThousandConcurrentFirstRequestsCauseOneFetch) {
  Fixture f(60min);
  f.source->delay = 200ms;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 2000; ++i) {
    threads.emplace_back([&] {
      if (f.creds->current()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 2000);
  EXPECT_EQ(f.source->calls, 1);
}

TEST(Rotating, RequestsDuringARefreshDoNotWaitAndUseTheOldKeys) {
  RotationPolicy p;
  p.refresh_every = 10min;
  p.prefetch = true;
  Fixture f(60min, p);
  f.creds->start();
  f.source->hold = true;   // the next fetch stays in flight until released
  f.clock.advance(10min);  // the refresher starts it
  ASSERT_TRUE(eventually([&] { return f.source->calls == 2; }));
  std::vector<std::thread> threads;
  std::atomic<int> old_keys{0};
  for (int i = 0; i < 2000; ++i) {
    threads.emplace_back([&] {
      if (f.creds->current().value()->access_key_id == "AK1") ++old_keys;
    });
  }
  for (auto& t : threads) t.join();  // would never finish if requests waited for the refresh
  EXPECT_EQ(old_keys, 2000);
  EXPECT_EQ(f.source->calls, 2);  // exactly one refresh in flight
  f.source->hold = false;
  ASSERT_TRUE(eventually([&] { return f.creds->current().value()->access_key_id == "AK2"; }));
  EXPECT_EQ(f.source->calls, 2);
}

TEST(Rotating, RefreshesEveryPeriodOrBeforeExpiryWhicheverIsSooner) {
  RotationPolicy p;
  p.refresh_every = 30min;
  p.refresh_margin = 5min;
  p.prefetch = true;
  Fixture f(60min, p);  // every 30 min comes first
  f.creds->start();
  for (int period = 1; period <= 3; ++period) {
    f.clock.advance(30min);
    ASSERT_TRUE(eventually([&] { return f.source->calls == period + 1; })) << period;
  }
  Fixture g(20min, p);  // expiry - margin = 15 min comes first
  g.creds->start();
  g.clock.advance(14min);
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(g.source->calls, 1);
  g.clock.advance(1min);
  EXPECT_TRUE(eventually([&] { return g.source->calls == 2; }));
}

TEST(Rotating, FailedRefreshKeepsLastGoodUntilExpiryThen503ThenRecovers) {
  RotationPolicy p;
  p.refresh_every = 10min;
  p.refresh_margin = 5min;
  p.prefetch = true;
  Fixture f(20min, p);
  f.creds->start();
  f.source->failing = true;
  f.clock.advance(10min);
  ASSERT_TRUE(eventually([&] { return f.creds->state().failures >= 1; }));
  EXPECT_EQ(f.creds->current().value()->access_key_id, "AK1");  // last good, still valid
  f.clock.advance(11min);                                       // past expiry
  auto expired = f.creds->current();
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(expired.error().client.find("lpdaac"), std::string::npos);
  EXPECT_FALSE(f.creds->state().valid);
  f.source->failing = false;
  f.clock.advance(3s);  // past the backoff
  ASSERT_TRUE(eventually([&] { return f.creds->current().ok(); }));
  EXPECT_TRUE(f.creds->state().valid);
}

TEST(Rotating, CredentialsThatArriveExpiredDoNotMakeTheRefresherSpin) {
  RotationPolicy p;
  p.prefetch = true;
  Fixture f(-1min, p);  // the endpoint's clock is behind ours
  f.creds->start();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(f.source->calls, 1);
  f.clock.advance(1s);
  ASSERT_TRUE(eventually([&] { return f.source->calls == 2; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(f.source->calls, 2);
}

}  // namespace
}  // namespace scigate
