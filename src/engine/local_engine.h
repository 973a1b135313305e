// LocalEngine: runs each workflow step as a child process on this machine, with no cloud.
// Per run: a folder {work_dir}/{run_id} with input/ (the data selection, copied from its
// store, many objects at once), output/, log.txt, trigger.json and conf.json. A step gets the run's conf as
// JSON on stdin and in the file named by SCIGATE_CONF_FILE (never in the environment,
// where a long parameter would make exec fail), and a clean environment (step_env.h):
// an allow-list of harmless variables, the workflow's `env:` entries and SCIGATE_RUN_ID,
// SCIGATE_INPUT_DIR, SCIGATE_OUTPUT_DIR, SCIGATE_STEP, SCIGATE_CONF_FILE. A non-zero exit,
// or a program that cannot start, fails the run. After the last step the regular files
// of output/ are uploaded to the staging store under the run's output prefix (symbolic
// links are skipped and named in the run log).
//
// Each step runs under a step supervisor (step_supervisor.h): scigate's own binary,
// re-executed, which makes sure that nothing the step started outlives it, and reports
// how it ended (exit status, signal, or the errno of a failed exec). Cancel = SIGTERM to
// the supervisor, which passes it on and SIGKILLs everything after cancel_grace.
//
// At most max_parallel_runs run at once (one runner thread each). The queue is the
// ledger: trigger() stores the run's conf in it (engine_data), and idle runners claim the
// oldest triggered run (RunLedger::claim_next), so several instances sharing a ledger
// share one queue, and queued runs survive a restart. A claim is a lease that a keeper
// thread renews every `heartbeat`; the same beat reads cancel flags set by other
// instances (cancel() on any instance), ships the logs of this instance's runs into the
// ledger (any instance serves them), and ends what instances that stopped renewing left
// (RunLedger::expire_leases). Every lifecycle write is fenced by the claim: an instance
// that lost it (stalled past its lease) stops the run instead of recording it.
// At start, runs this host's dead processes held (and those of a scigate older than
// claims) are failed at once rather than after their lease. Thread-safe.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "catalog/config.h"
#include "engine/step_supervisor.h"
#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"
#include "storage/store_factory.h"

namespace scigate {

// What LocalEngine needs from the process it runs in.
struct LocalEngineHost {
  // A binary that implements `__step-supervisor`: scigate itself ("/proc/self/exe" in the
  // server, which stays valid even when the file is replaced by an upgrade).
  std::filesystem::path supervisor;
  // The server's environment (NAME=value), from which steps get only the allow-listed
  // variables and those their workflow names.
  std::vector<std::string> environment;
  // The engine owns the process (the server, not a test): at start() it makes the process
  // a child subreaper, so that what a killed supervisor leaves behind is re-parented here
  // and killed, and non-dumpable, so that a step running as the same user cannot read the
  // server's secrets from /proc/<pid>/environ or /proc/<pid>/mem.
  bool own_process = false;
  // Who this process is among the instances sharing the ledger; "" = this_instance_id().
  std::string instance_id;
};

// "host:pid:start-time": unique among the processes that ever share a ledger, and telling
// whether the process is gone when it ran on this host (instance_gone).
std::string this_instance_id();
// True when `instance` names a process of this host that no longer runs; false when it is
// alive or of another host (only its lease can tell then).
bool instance_gone(const std::string& instance);

class LocalEngine final : public WorkflowEngine {
 public:
  LocalEngine(LocalEngineConfig config, const std::map<std::string, WorkflowConfig>& workflows, RunLedger& ledger,
              StoreMap stores, std::shared_ptr<ObjectStore> staging, LocalEngineHost host);
  ~LocalEngine() override;

  Result<std::vector<WorkflowInfo>> list_workflows() override;
  Result<WorkflowInfo> describe(const std::string& workflow_id) override;
  Result<std::string> trigger(const TriggerRequest& request) override;
  Result<RunStatus> status(const RunRecord& run) override;
  Result<RunRecord> cancel(const RunRecord& run) override;
  Result<std::shared_ptr<ByteSource>> logs(const RunRecord& run) override;
  // The whole log file from `offset` (offsets are the file's); logs() gives only its end.
  Result<LogSlice> read_log(const RunRecord& run, uint64_t offset, size_t max) override;
  // The ledger and a log file are local: cheap to ask twice a second. The log grows
  // while a step runs, with no change of progress.
  FollowPolicy follow_policy() const override { return {std::chrono::milliseconds(500), true}; }
  void start() override;
  void stop() override;

 private:
  // Why a run stops before its end: a cancel, scigate stopping, or its claim lost to
  // another instance (which has recorded its end: nothing more is written).
  enum class StopCause { kNone, kCancel, kShutdown, kClaimLost };
  struct Active {
    int supervisor = 0;  // pid of the running step's supervisor, 0 between steps
    StopCause stop = StopCause::kNone;
    std::chrono::steady_clock::time_point stop_requested{};
    uint64_t log_shipped = 0;  // how much of log.txt the ledger holds
  };

  void runner_loop();
  void execute(RunRecord run);
  // Records a lifecycle change; a lost claim stops the run (returns false).
  bool record(const RunRecord& run);
  void stop_lost_claim(const std::string& run_id);
  void keeper_loop();
  void beat();
  void recover();
  void ship_log(const std::string& run_id);
  Status fetch_inputs(const TriggerRequest& trig, const std::filesystem::path& input_dir, std::ostream& log);
  Status upload_outputs(const RunRecord& run, const std::filesystem::path& output_dir, std::ostream& log);
  // Runs one step under its supervisor; ok when it exited with status 0.
  Status run_step(const RunRecord& run, const WorkflowStep& step, const std::filesystem::path& run_dir, int log_fd);
  std::vector<std::string> step_environment(const RunRecord& run, const WorkflowStep& step,
                                            const std::filesystem::path& dir) const;
  std::vector<std::string> supervisor_command(const WorkflowStep& step, const std::string& path) const;
  pid_t spawn_supervisor(char** argv, char** envp, const int (&fds)[4], const std::filesystem::path& dir);
  std::optional<int> wait_supervisor(const std::string& run_id, pid_t pid);
  void request_stop(Active& a, StopCause cause);
  void kill_orphaned_step(const std::string& run_id);
  void reaper_loop();
  void kill_strays();
  StopCause stop_cause(const std::string& run_id);
  // Records the run's end (this engine writes every lifecycle transition) and returns it.
  RunRecord finish(RunRecord run, RunState state, std::string reason);
  // The end a stop cause gives a run.
  void finish_stopped(const RunRecord& run, StopCause cause);
  std::filesystem::path run_dir(const std::string& run_id) const { return config_.work_dir / run_id; }

  LocalEngineConfig config_;
  const std::map<std::string, WorkflowConfig>& workflows_;
  RunLedger& ledger_;
  StoreMap stores_;
  std::shared_ptr<ObjectStore> staging_;
  LocalEngineHost host_;
  std::map<std::string, std::vector<std::string>> step_env_;  // workflow id -> its steps' base environment

  std::string instance_;

  std::mutex mu_;
  std::condition_variable cv_;
  int wakeups_ = 0;  // triggers not yet looked for by a runner
  std::map<std::string, Active> active_;
  bool stopping_ = false;
  std::vector<std::thread> runners_;
  std::thread keeper_;
  int beats_ = 0;

  // Children this engine started and has not reaped yet. Forking and registering happen
  // under spawn_mu_, so the stray reaper never mistakes a new supervisor for a stray.
  std::mutex spawn_mu_;
  std::multiset<pid_t> spawned_;
  std::condition_variable stop_cv_;  // wakes the reaper and the keeper; not cv_, whose notify_one is for runners
  std::thread reaper_;
};

}  // namespace scigate
