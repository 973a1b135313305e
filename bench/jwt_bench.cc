// Cost of verifying a token, paid on every authenticated request.
#include <benchmark/benchmark.h>

#include "auth/jwt.h"

namespace {

// state.range(0): entries of the verified-token cache (0 = every request verifies).
void BM_VerifyHs256(benchmark::State& state) {
  scigate::JwtConfig cfg;
  cfg.secret = scigate::Secret("env:X", "bench-secret-bench-secret-bench-secret");
  cfg.issuer = "LabCAS";
  cfg.audience = "LabCAS";
  scigate::JwtVerifier verifier(cfg, static_cast<size_t>(state.range(0)));
  auto now = std::chrono::system_clock::now();
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string token =
      "Bearer " + scigate::mint_hs_token(
                      {{"username", "thomas"}, {"exp", t + 3600}, {"iat", t}, {"iss", "LabCAS"}, {"aud", "LabCAS"}},
                      cfg.secret.value());
  for (auto _ : state) benchmark::DoNotOptimize(verifier.verify(token, now));
}
BENCHMARK(BM_VerifyHs256)->Arg(0)->Arg(10'000);

}  // namespace

BENCHMARK_MAIN();
