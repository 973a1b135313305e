#include "app/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace scigate {

void setup_logging(const std::string& level) {
  auto app = spdlog::stderr_logger_mt("scigate");
  app->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  app->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(app);
  auto access = spdlog::stdout_logger_mt("access");
  access->set_pattern("%v");
  access->flush_on(spdlog::level::info);
}

std::shared_ptr<spdlog::logger> access_logger() { return spdlog::get("access"); }

}  // namespace scigate
