// Process-wide log setup: human-readable application log on stderr, one JSON line per
// request on stdout (the access log).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace scigate {

void setup_logging(const std::string& level);
std::shared_ptr<spdlog::logger> access_logger();

}  // namespace scigate
