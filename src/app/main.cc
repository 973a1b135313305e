// scigate's entry point: only parses the command line (see app/cli.h).
#include <malloc.h>
#include <proj.h>

#include <csignal>

#include "app/cli.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  // A map tile allocates several pixel buffers of 0.5-2 MB and frees them at once. With
  // glibc's defaults each went to mmap/munmap (or a trimmed arena) and the profile of a
  // warm tile was a quarter page faults; keeping such blocks in the heap doubled tiles/s
  // (docs/BENCHMARKS.md, "Tiles: end to end"). Fixed values also turn off glibc's dynamic
  // threshold; memory kept beyond use stays under 32 MiB per arena.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  // Every PROJ context starts as a copy of the default one, log level included, and
  // libgeotiff makes contexts of its own for some lookups: without this PROJ prints the
  // misses of a file's odd GeoKeys ("unit of measure not found") on the server's stderr.
  // Set before any thread starts (the default context is not thread-safe).
  proj_log_level(nullptr, PJ_LOG_NONE);
  return scigate::run_cli(argc, argv);
}
