// Uploads a folder to S3 with the code path the local engine stages outputs with
// (upload_folder over S3ObjectStore) and prints MB/s.
//   s3_upload_bench ENDPOINT ACCESS_KEY SECRET BUCKET PREFIX FOLDER [PARALLELISM]
#include <chrono>
#include <iostream>

#include "bench_s3.h"
#include "storage/transfer.h"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: s3_upload_bench ENDPOINT ACCESS_KEY SECRET BUCKET PREFIX FOLDER [PARALLELISM]\n";
    return 2;
  }
  auto store_ptr = scigate::bench::s3_store(argv[1], argv[2], argv[3]);
  scigate::S3ObjectStore& store = *store_ptr;
  int parallelism = argc > 7 ? std::stoi(argv[7]) : 4;
  auto t0 = std::chrono::steady_clock::now();
  auto stats = scigate::upload_folder(store, argv[4], argv[5], argv[6], parallelism);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!stats) {
    std::cerr << stats.error().internal << "\n";
    return 1;
  }
  std::cout << "files " << stats->files << " bytes " << stats->bytes << " seconds " << secs << " MB/s "
            << stats->bytes / 1e6 / secs << "\n";
  return 0;
}
