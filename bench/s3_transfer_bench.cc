// The stage-in and streaming-upload code paths of the local engine against an S3 store:
//   s3_transfer_bench download ENDPOINT ACCESS_KEY SECRET BUCKET PREFIX FOLDER WORKERS
//     download_prefix of bucket/prefix into folder; prints files, bytes, seconds
//   s3_transfer_bench put-rss ENDPOINT ACCESS_KEY SECRET BUCKET KEY FILE
//     put_file of FILE in 8 MiB parts; prints seconds and how much the peak RSS grew
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "bench_s3.h"
#include "storage/transfer.h"

namespace {

// VmHWM (peak resident set) in KiB, from /proc/self/status.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (argc < 8 || (mode != "download" && mode != "put-rss") || (mode == "download" && argc < 9)) {
    std::cerr << "usage: s3_transfer_bench download ENDPOINT ACCESS_KEY SECRET BUCKET PREFIX FOLDER WORKERS\n"
                 "       s3_transfer_bench put-rss ENDPOINT ACCESS_KEY SECRET BUCKET KEY FILE\n";
    return 2;
  }
  constexpr size_t kPartSize = 8 << 20;
  auto store_ptr = scigate::bench::s3_store(argv[2], argv[3], argv[4], kPartSize);
  scigate::S3ObjectStore& store = *store_ptr;
  auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (mode == "download") {
    auto stats = scigate::download_prefix(store, argv[5], argv[6], argv[7], std::stoi(argv[8]));
    if (!stats) {
      std::cerr << stats.error().internal << "\n";
      return 1;
    }
    std::cout << "files " << stats->files << " bytes " << stats->bytes << " seconds " << seconds() << "\n";
    return 0;
  }
  // Reset the peak to the current RSS (Linux: "5" to clear_refs), so the growth measured
  // is the upload's own.
  std::ofstream("/proc/self/clear_refs") << "5";
  long before = peak_rss_kib();
  auto st = store.put_file(argv[5], argv[6], argv[7]);
  if (!st) {
    std::cerr << st.error().internal << "\n";
    return 1;
  }
  long after = peak_rss_kib();
  std::cout << "seconds " << seconds() << " peak RSS growth " << (after - before) / 1024.0 << " MiB (part size "
            << (kPartSize >> 20) << " MiB)\n";
  return 0;
}
