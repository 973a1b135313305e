// glibc exports its allocator as __libc_*: malloc and friends defined in the executable
// take precedence over libc's for every shared library, and forward to those.
#include "allocation_probe.h"

#include <malloc.h>

#include <atomic>
#include <cerrno>

#if defined(__SANITIZE_ADDRESS__)
#define SCIGATE_PROBE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCIGATE_PROBE 0
#endif
#endif
#ifndef SCIGATE_PROBE
#define SCIGATE_PROBE 1
#endif

namespace scigate::testing::allocation_probe {
namespace {
std::atomic<size_t> g_largest{0};
std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_base{0};
std::atomic<int64_t> g_peak{0};

void note_request(size_t n) {
  size_t seen = g_largest.load(std::memory_order_relaxed);
  while (n > seen && !g_largest.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
  }
}

void note_live(void* p, bool added) {
  if (!p) return;
  const auto n = static_cast<int64_t>(malloc_usable_size(p));
  const int64_t live = g_live.fetch_add(added ? n : -n, std::memory_order_relaxed) + (added ? n : -n);
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (live > peak && !g_peak.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
}
}  // namespace

bool enabled() { return SCIGATE_PROBE != 0; }

void reset() {
  g_largest = 0;
  g_base = g_live.load();
  g_peak = g_live.load();
}

size_t largest_request() { return g_largest.load(); }
int64_t peak_growth() { return g_peak.load() - g_base.load(); }

}  // namespace scigate::testing::allocation_probe

#if SCIGATE_PROBE
namespace probe = scigate::testing::allocation_probe;

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  probe::note_request(n);
  void* p = __libc_malloc(n);
  probe::note_live(p, true);
  return p;
}

void* calloc(size_t count, size_t size) {
  probe::note_request(count * size);
  void* p = __libc_calloc(count, size);
  probe::note_live(p, true);
  return p;
}

void* realloc(void* old, size_t n) {
  probe::note_request(n);
  probe::note_live(old, false);
  void* p = __libc_realloc(old, n);
  // A failed realloc keeps the old block.
  probe::note_live(p ? p : (n == 0 ? nullptr : old), true);
  return p;
}

void free(void* p) {
  probe::note_live(p, false);
  __libc_free(p);
}

void* memalign(size_t alignment, size_t n) {
  probe::note_request(n);
  void* p = __libc_memalign(alignment, n);
  probe::note_live(p, true);
  return p;
}

void* aligned_alloc(size_t alignment, size_t n) { return memalign(alignment, n); }

int posix_memalign(void** out, size_t alignment, size_t n) {
  void* p = memalign(alignment, n);
  if (!p && n) return ENOMEM;
  *out = p;
  return 0;
}
}
#endif
