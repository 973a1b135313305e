#include "ledger/run_record.h"

namespace scigate {

const char* to_string(RunState s) {
  switch (s) {
    case RunState::kQueued:
      return "queued";
    case RunState::kRunning:
      return "running";
    case RunState::kSuccess:
      return "success";
    case RunState::kFailed:
      return "failed";
    case RunState::kCanceled:
      return "canceled";
  }
  return "failed";
}

std::optional<RunState> parse_run_state(std::string_view s) {
  for (RunState st : kAllRunStates) {
    if (s == to_string(st)) return st;
  }
  return std::nullopt;
}

}  // namespace scigate
