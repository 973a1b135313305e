// Cost of SigV4 signing as S3 calls and presigned links pay it.
#include <benchmark/benchmark.h>

#include "aws/sigv4.h"

namespace {

scigate::AwsCredentials creds() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};
}

void BM_SignS3Get(benchmark::State& state) {
  scigate::SigV4Signer signer("us-west-2", "s3", {false, true, false});
  auto c = creds();
  auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    scigate::SignableRequest r{"GET",
                               "/bucket/thomas/20261123T101512Z-1a2b3c4d/tiles/tissue_01_00_01.png",
                               {},
                               {{"Host", "s3.us-west-2.amazonaws.com"}},
                               std::string(scigate::kUnsignedPayload)};
    signer.sign(r, c, now);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SignS3Get);

void BM_PresignS3Get(benchmark::State& state) {
  scigate::SigV4Signer signer("us-west-2", "s3", {false, true, false});
  auto c = creds();
  auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    scigate::SignableRequest r{"GET",
                               "/bucket/thomas/run/summary.json",
                               {},
                               {{"Host", "s3.us-west-2.amazonaws.com"}},
                               std::string(scigate::kUnsignedPayload)};
    signer.presign(r, c, now, std::chrono::seconds(600));
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PresignS3Get);

}  // namespace

BENCHMARK_MAIN();
