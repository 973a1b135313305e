// What the ledger remembers about one run, and the run states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scigate {

// The seed's states plus canceled.
enum class RunState { kQueued, kRunning, kSuccess, kFailed, kCanceled };

const char* to_string(RunState s);
std::optional<RunState> parse_run_state(std::string_view s);
inline bool is_terminal(RunState s) {
  return s == RunState::kSuccess || s == RunState::kFailed || s == RunState::kCanceled;
}
inline constexpr RunState kAllRunStates[] = {RunState::kQueued, RunState::kRunning, RunState::kSuccess,
                                             RunState::kFailed, RunState::kCanceled};

struct RunRecord {
  std::string run_id;
  std::string workflow_id;
  std::string username;
  std::string data_selection;
  std::string params_json = "{}";  // the caller's params after validation and defaults
  std::string output_bucket;
  std::string output_prefix;  // key prefix in the staging bucket, ends with '/'
  std::string engine_run_id;
  RunState state = RunState::kQueued;
  int64_t created_us = 0;  // Unix microseconds; 0 = not yet
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::string idempotency_key;  // empty = none
  std::string reason;           // why it failed or was canceled
  int tasks_done = 0;
  int tasks_total = 0;

  // The local engine's bookkeeping when several instances share the ledger (never shown
  // by the API; run_ledger.h says how they change).
  std::string engine_data;        // what the engine needs to start the run anywhere; "" = not triggered yet
  std::string owner;              // the instance that claimed the run; "" = nobody
  int64_t lease_until_us = 0;     // the owner's claim holds until then (its heartbeat renews it)
  bool cancel_requested = false;  // a cancel was asked for; the owner stops the run
};

}  // namespace scigate
