// Wall-clock helpers: ISO 8601 UTC formatting and the compact stamps used in run ids.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scigate {

using SystemTime = std::chrono::system_clock::time_point;

// "2026-11-23T10:15:12.123456Z"
std::string format_iso8601(SystemTime t);
// RFC 3339 / ISO 8601 as AWS, Earthdata and Airflow write it: "2021-01-27T00:50:09Z",
// "...09.123456+00:00", "2021-01-27 00:50:09+00:00" (no zone = UTC). Fractions are kept
// to the microsecond. nullopt for anything else, and for times SystemTime cannot hold
// (before 1678 or after 2261).
std::optional<SystemTime> parse_iso8601(std::string_view text);
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
