// Wall-clock helpers: ISO 8601 UTC formatting and the compact stamps used in run ids.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace scigate {

using SystemTime = std::chrono::system_clock::time_point;

// "2026-11-23T10:15:12.123456Z"
std::string format_iso8601(SystemTime t);
// "20261123T101512Z"
std::string compact_stamp(SystemTime t);
// Microseconds since the Unix epoch; the ledger's time unit.
int64_t to_unix_micros(SystemTime t);
SystemTime from_unix_micros(int64_t us);
// Full-jitter exponential backoff: a random delay in [0, min(max, base * 2^attempt)].
std::chrono::milliseconds jittered_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds max);
// `n` random bytes from OpenSSL's CSPRNG, as lowercase hex.
std::string random_hex(size_t n_bytes);

}  // namespace scigate
