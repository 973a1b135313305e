// The COG reader on an S3 store, tile by tile, for the reader choice (issue 10):
//   cog_tiles_bench ENDPOINT ACCESS_KEY SECRET BUCKET KEY TILES THREADS
// TILES is a file of "level x y" lines: the 256 x 256 window at pixel (x, y) of that level
// (0 = full resolution, then the overviews), as a map tile at that zoom would read it.
// Opens the file once, reads every tile cold, then every tile again (warm), on THREADS
// threads; prints per phase the seconds, per-tile latency and the GETs and bytes the
// reader sent (its own counters: compare with a counting proxy).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_s3.h"
#include "raster/raster_readers.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Tile {
  int level, x, y;
};

struct Phase {
  double seconds = 0;
  std::vector<double> latencies_ms;
  uint64_t gets = 0, bytes = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

void print(const std::string& name, const Phase& p, size_t tiles) {
  std::cout << std::fixed << std::setprecision(2) << name << ": " << tiles << " tiles in " << p.seconds * 1000
            << " ms, p50 " << percentile(p.latencies_ms, 0.5) << " ms, p90 " << percentile(p.latencies_ms, 0.9)
            << " ms, GETs " << p.gets << " (" << std::setprecision(3) << static_cast<double>(p.gets) / tiles
            << "/tile), bytes " << p.bytes << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::cerr << "usage: cog_tiles_bench ENDPOINT ACCESS_KEY SECRET BUCKET KEY TILES THREADS\n";
    return 2;
  }
  auto store = scigate::bench::s3_store(argv[1], argv[2], argv[3]);
  std::vector<Tile> tiles;
  std::ifstream list(argv[6]);
  for (Tile t; list >> t.level >> t.x >> t.y;) tiles.push_back(t);
  int threads = std::max(1, std::stoi(argv[7]));

  scigate::raster::RasterReaders readers({{"bench", store}}, scigate::RasterConfig{});
  const auto& io = readers.io("bench");
  auto t0 = Clock::now();
  auto reader = readers.open("bench", argv[4], argv[5]);
  if (!reader) {
    std::cerr << reader.error().internal << "\n";
    return 1;
  }
  double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::cout << "open: " << std::fixed << std::setprecision(2) << open_ms << " ms, HEADs " << io.heads << ", GETs "
            << io.gets << ", bytes " << io.bytes << "\n";

  auto run = [&](Phase& phase) {
    uint64_t gets0 = io.gets, bytes0 = io.bytes;
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::vector<double>> lat(threads);
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t i; (i = next++) < tiles.size();) {
          auto s = Clock::now();
          auto img = (*reader)->read(tiles[i].level, {tiles[i].x, tiles[i].y, 256, 256}, {1, 2, 3});
          if (!img) failed = true;
          lat[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
      });
    }
    for (auto& th : pool) th.join();
    phase.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& l : lat) phase.latencies_ms.insert(phase.latencies_ms.end(), l.begin(), l.end());
    phase.gets = io.gets - gets0;
    phase.bytes = io.bytes - bytes0;
    return !failed;
  };
  Phase cold, warm;
  if (!run(cold) || !run(warm)) {
    std::cerr << "a tile failed\n";
    return 1;
  }
  print("cold", cold, tiles.size());
  print("warm", warm, tiles.size());
  return 0;
}
