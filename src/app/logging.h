// Process-wide log setup: the human-readable application log on stderr. (The access
// log, one JSON line per request on stdout, is written by the server itself.)
#pragma once

#include <string>

namespace scigate {

void setup_logging(const std::string& level);

}  // namespace scigate
