// FetchPool: threads that run the ranged GETs (and the decoding) of reads in parallel,
// shared by every reader so that the number of GETs under way stays bounded however many
// tiles are being drawn. Threads start as work arrives (none while rasters are unused)
// and stay until the pool is destroyed.
//
// Tasks must not wait for other tasks of the pool (they only do I/O and decoding), so a
// full pool delays work but never deadlocks.
//
// Thread safety: submit() may be called from any thread; the destructor waits for the
// tasks already submitted.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace scigate::raster {

class FetchPool {
 public:
  explicit FetchPool(int max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}
  ~FetchPool();
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  void submit(std::function<void()> task);

 private:
  void run();

  const int max_threads_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

}  // namespace scigate::raster
