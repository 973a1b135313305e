// Counts the heap allocations of the whole test process (malloc and everything built on
// it: operator new, libtiff, zlib, libjpeg), so a test can bound what a hostile input
// makes the reader allocate. Linked only into unit_raster; inert (enabled() is false)
// under AddressSanitizer, which owns malloc itself.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scigate::testing::allocation_probe {

bool enabled();
// Starts a measurement: the largest single request and the peak of live bytes are
// counted from now on.
void reset();
// The largest single allocation request since reset().
size_t largest_request();
// How far live heap bytes rose above their level at reset().
int64_t peak_growth();

}  // namespace scigate::testing::allocation_probe
