// Cost of verifying a token, paid on every authenticated request.
#include <benchmark/benchmark.h>

#include "auth/jwt.h"

namespace {

void BM_VerifyHs256(benchmark::State& state) {
  scigate::JwtConfig cfg;
  cfg.secret = scigate::Secret("env:X", "bench-secret-bench-secret-bench-secret");
  cfg.issuer = "LabCAS";
  cfg.audience = "LabCAS";
  scigate::JwtVerifier verifier(cfg);
  auto now = std::chrono::system_clock::now();
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string token =
      "Bearer " + scigate::mint_hs_token(
                      {{"username", "thomas"}, {"exp", t + 3600}, {"iat", t}, {"iss", "LabCAS"}, {"aud", "LabCAS"}},
                      cfg.secret.value());
  for (auto _ : state) benchmark::DoNotOptimize(verifier.verify(token, now));
}
BENCHMARK(BM_VerifyHs256);

}  // namespace

BENCHMARK_MAIN();
