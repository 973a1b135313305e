// Cost of looking up a provider's current credentials on the request path.
#include <benchmark/benchmark.h>

#include <memory>

#include "credentials/rotating.h"

namespace {

class InstantSource final : public scigate::CredentialSource {
 public:
  scigate::Result<scigate::AwsCredentials> fetch() override {
    return scigate::AwsCredentials{"AK", "secret", "token", std::chrono::system_clock::now() + std::chrono::hours(1)};
  }
  std::string describe() const override { return "instant"; }
};

scigate::RotatingCredentials& provider() {
  static auto* p = [] {
    scigate::RotationPolicy policy;
    policy.prefetch = true;
    auto* r = new scigate::RotatingCredentials("bench", std::make_unique<InstantSource>(), policy);
    r->start();
    return r;
  }();
  return *p;
}

void BM_CurrentCredentials(benchmark::State& state) {
  auto& p = provider();
  for (auto _ : state) benchmark::DoNotOptimize(p.current());
}
BENCHMARK(BM_CurrentCredentials);
BENCHMARK(BM_CurrentCredentials)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
