// WorkflowEngine: what scigate needs from whatever runs workflows. Backends: the local
// engine (embedded default: child processes) and Airflow 2/3 or MWAA (airflow_engine.h).
//
// Thread safety: all methods may be called concurrently from worker threads.
// list_workflows() and describe() must not block (answer from memory or a cache that is
// refreshed in the background): the server calls them on its I/O threads.
// Failure: kNotFound for an unknown workflow, kConflict for cancelling a finished run,
// kUpstreamFailed/kUpstreamTimeout when a remote engine misbehaves.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/byte_source.h"
#include "core/error.h"
#include "core/param_schema.h"
#include "ledger/run_record.h"

namespace scigate {

struct WorkflowInfo {
  std::string id;
  std::string description;
  ParamSchema params;
  std::optional<std::string> schedule;
};

// The conf keys scigate sets for every run (as the seed did); a caller may not.
inline constexpr const char* kServerConfKeys[] = {"in_bucket", "in_prefix", "out_bucket", "out_prefix", "username"};

struct TriggerRequest {
  RunRecord run;               // already in the ledger, state queued
  boost::json::object conf;    // params + in_bucket, in_prefix, out_bucket, out_prefix, username
  std::string input_provider;  // provider of the data selection's bucket
};

struct RunStatus {
  RunState state = RunState::kQueued;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  int tasks_done = 0;
  int tasks_total = 0;
  std::string reason;
};

// A piece of a run's log for a reader that follows it (GET /runs/{run_id}/events).
struct LogSlice {
  std::string bytes;  // the log from the offset asked for, at most the maximum asked for
  uint64_t size = 0;  // the followed log's whole size now
};

// How a follower should watch a run on this engine: how often to ask for its status, and
// whether its log can grow while its status and progress stay the same (then the log is
// read on every poll; else only after a change, which saves remote calls).
struct FollowPolicy {
  std::chrono::milliseconds interval{1000};
  bool log_grows_between_changes = true;
};

class WorkflowEngine {
 public:
  virtual ~WorkflowEngine() = default;

  virtual Result<std::vector<WorkflowInfo>> list_workflows() = 0;
  virtual Result<WorkflowInfo> describe(const std::string& workflow_id) = 0;
  // Starts (or queues) the run; returns the engine's id for it.
  virtual Result<std::string> trigger(const TriggerRequest& request) = 0;
  // The engine's current view of a run the ledger knows.
  virtual Result<RunStatus> status(const RunRecord& run) = 0;
  // The current view of many runs at once, by run_id (a page of a run listing). Runs the
  // engine could not find are left out. Progress may be the ledger's (listings do not
  // show it), or 0/0 = unknown for a run that has just finished.
  virtual Result<std::map<std::string, RunStatus>> statuses(const std::vector<RunRecord>& runs) {
    std::map<std::string, RunStatus> out;
    for (const auto& run : runs) {
      auto st = status(run);
      if (!st) return st.error();
      out[run.run_id] = std::move(st).value();
    }
    return out;
  }
  virtual Status cancel(const RunRecord& run) = 0;
  // Task logs as text (may be empty while queued): a range of a local file, read while it
  // is sent, or text in memory for engines that fetch it.
  virtual Result<std::shared_ptr<ByteSource>> logs(const RunRecord& run) = 0;

  // The followed log from byte `offset` on, at most `max` bytes. The followed log only
  // grows while the run goes on (text once given never changes), so a reader resumes at
  // the offset where it stopped. Default: logs(), skipped to `offset`.
  virtual Result<LogSlice> read_log(const RunRecord& run, uint64_t offset, size_t max) {
    auto source = logs(run);
    if (!source) return source.error();
    std::string text = read_all(**source);
    LogSlice out{"", text.size()};
    if (offset < text.size()) out.bytes = text.substr(offset, max);
    return out;
  }
  virtual FollowPolicy follow_policy() const { return {}; }

  // Engine-specific lines for /metrics (Prometheus text), "" when there are none.
  virtual std::string metrics_text() const { return ""; }

  // Background work: recovery after a restart, runners. Called once by the app.
  virtual void start() {}
  // Stops background work; in-flight runs end as failed with a reason.
  virtual void stop() {}
};

}  // namespace scigate
