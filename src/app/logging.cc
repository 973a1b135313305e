#include "app/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace scigate {

void setup_logging(const std::string& level) {
  // Called again when a Lambda reloads its config: the logger stays, its level changes.
  auto app = spdlog::get("scigate");
  if (!app) app = spdlog::stderr_logger_mt("scigate");
  app->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  app->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(app);
}

}  // namespace scigate
