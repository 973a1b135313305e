// Durations written in config and on the CLI: "30s", "10m", "1h", "250ms", "2d", or a
// bare number of seconds. Combinations like "1h30m" are accepted.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace scigate {

// nullopt when `text` is not a duration, or one over 100 years (clocks counting
// nanoseconds in 64 bits would overflow).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace scigate
