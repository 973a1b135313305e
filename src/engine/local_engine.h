// LocalEngine: runs each workflow step as a child process in its own process group, on
// this machine, with no cloud. Per run: a folder {work_dir}/{run_id} with input/ (the
// data selection, copied from its store, many objects at once), output/, log.txt and
// trigger.json. Steps get the conf as JSON on stdin and as env (SCIGATE_RUN_ID,
// SCIGATE_INPUT_DIR, SCIGATE_OUTPUT_DIR, SCIGATE_CONF). A non-zero exit fails the run.
// After the last step output/ is uploaded to the staging store under the run's output
// prefix.
//
// At most max_parallel_runs run at once (one runner thread each); the rest wait in a
// queue whose state lives in the ledger, so queued runs survive a restart and runs that
// were running when the server died are marked failed. Cancel = SIGTERM to the group,
// SIGKILL after cancel_grace. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/config.h"
#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"
#include "storage/store_factory.h"

namespace scigate {

class LocalEngine final : public WorkflowEngine {
 public:
  LocalEngine(EngineConfig config, const std::map<std::string, WorkflowConfig>& workflows, RunLedger& ledger,
              StoreMap stores, std::shared_ptr<ObjectStore> staging);
  ~LocalEngine() override;

  Result<std::vector<WorkflowInfo>> list_workflows() override;
  Result<WorkflowInfo> describe(const std::string& workflow_id) override;
  Result<std::string> trigger(const TriggerRequest& request) override;
  Result<RunStatus> status(const RunRecord& run) override;
  Status cancel(const RunRecord& run) override;
  Result<std::string> logs(const RunRecord& run) override;
  void start() override;
  void stop() override;

 private:
  enum class StopCause { kNone, kCancel, kShutdown };
  struct Active {
    int pgid = 0;
    StopCause stop = StopCause::kNone;
    std::chrono::steady_clock::time_point stop_requested{};
  };

  void runner_loop();
  void execute(const std::string& run_id);
  Status fetch_inputs(const TriggerRequest& trig, const std::filesystem::path& input_dir, std::ostream& log);
  Status upload_outputs(const RunRecord& run, const std::filesystem::path& output_dir, std::ostream& log);
  // Runs one step; returns the exit status or the cause that stopped it.
  Status run_step(const RunRecord& run, const WorkflowStep& step, const std::string& conf_json,
                  const std::filesystem::path& run_dir, int log_fd);
  int wait_child(const std::string& run_id, int pid);
  void kill_orphaned_step(const std::string& run_id);
  StopCause stop_cause(const std::string& run_id);
  void finish(RunRecord run, RunState state, std::string reason);
  std::filesystem::path run_dir(const std::string& run_id) const { return config_.work_dir / run_id; }

  EngineConfig config_;
  const std::map<std::string, WorkflowConfig>& workflows_;
  RunLedger& ledger_;
  StoreMap stores_;
  std::shared_ptr<ObjectStore> staging_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::map<std::string, Active> active_;
  bool stopping_ = false;
  std::vector<std::thread> runners_;
};

}  // namespace scigate
