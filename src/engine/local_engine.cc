#include "engine/local_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/json_util.h"
#include "engine/process_tree.h"
#include "engine/step_env.h"
#include "storage/transfer.h"

namespace fs = std::filesystem;
namespace json = boost::json;

namespace scigate {

namespace {

constexpr size_t kMaxLogBytes = 4 << 20;
constexpr int kUploadParallelism = 4;
// Inputs are often many small files, where each GET waits on the store's latency rather
// than on bandwidth: more of them at once (awscli uses 10).
constexpr int kDownloadParallelism = 16;
constexpr auto kPollInterval = std::chrono::milliseconds(20);
// A supervisor ends at most cancel_grace after a SIGTERM, plus the time to kill and reap.
// One still alive after this margin too is itself killed (never seen; a safety net).
constexpr auto kSupervisorMargin = std::chrono::seconds(5);
constexpr auto kStrayScanInterval = std::chrono::seconds(1);

int64_t now_us() { return to_unix_micros(std::chrono::system_clock::now()); }

// The lookup on the step's PATH is done here: the supervisor execs the exact path.
std::string resolve_program(const std::string& prog, const std::string& path) {
  if (prog.find('/') != std::string::npos) return prog;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / prog;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return prog;
}

// argv/envp as C arrays that stay alive until exec.
struct CStrings {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  char** get() {
    pointers.clear();
    for (auto& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers.data();
  }
};

json::object read_json_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = parse_json(ss.str());
  return (v && v->is_object()) ? v->get_object() : json::object{};
}

// The conf a step reads, rewritten before each step so that one step cannot change what
// the next one is told.
Status write_conf(const fs::path& file, const std::string& conf_json) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << conf_json;
  out.close();
  if (!out) return Error::internal_error("cannot write " + file.string());
  return ok_status();
}

// Signals that reach the supervisor only once it is ready for them (see exec_supervisor).
sigset_t deferred_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, sig);
  return set;
}

// In the forked child until exec: async-signal-safe calls only. `fds` become 0..3
// (conf, log, log, report); everything else of the server (listening socket, ledger,
// client connections) is closed, or an orphaned step could keep the port bound.
[[noreturn]] void exec_supervisor(char** argv, char** envp, const int (&fds)[4], const char* dir,
                                  const sigset_t& deferred) {
  ::setpgid(0, 0);
  // A cancel that comes before the supervisor is ready stays pending instead of killing
  // it before it could start and tear down the step: the mask survives exec.
  ::sigprocmask(SIG_SETMASK, &deferred, nullptr);
  int high[4];  // first out of the way of 0..3, which some of the sources may be
  for (int i = 0; i < 4; ++i) high[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
  for (int i = 0; i < 4; ++i) ::dup2(high[i], i);
  ::close_range(4, ~0U, 0);
  if (::chdir(dir) == 0) ::execve(argv[0], argv, envp);
  StepReport failed{StepReport::kSupervisorNotStarted, errno};
  (void)!::write(kStepReportFd, &failed, sizeof failed);
  ::_exit(127);
}

// The last complete report on the (non-blocking) pipe; nothing when the supervisor died
// before it could write one.
std::optional<StepReport> read_report(int fd) {
  std::optional<StepReport> out;
  StepReport r;
  while (::read(fd, &r, sizeof r) == static_cast<ssize_t>(sizeof r)) out = r;
  return out;
}

Status step_outcome(const WorkflowStep& step, const std::optional<StepReport>& report,
                    const std::optional<int>& wait_status) {
  std::string what;
  if (report) {
    if (report->kind == StepReport::kExited && report->value == 0) return ok_status();
    what = describe_step_report(*report);
  } else if (wait_status && WIFSIGNALED(*wait_status)) {
    what = "ended abnormally: its supervisor was killed by signal " + std::to_string(WTERMSIG(*wait_status));
  } else {
    what = "ended abnormally: its supervisor ended without a report";
  }
  std::string internal = "step " + step.id + " " + what;
  if (report && report->kind == StepReport::kNotStarted) internal += " (program " + step.command[0] + ")";
  return Error{ErrorCode::kInternal, internal, "step '" + step.id + "' " + what};
}

// True when /proc/<pid>/<file> (environ, cmdline: NUL-separated) contains `needle`.
bool proc_file_contains(pid_t pid, const char* file, const std::string& needle) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.find(needle) != std::string::npos;
}

}  // namespace

LocalEngine::LocalEngine(EngineConfig config, const std::map<std::string, WorkflowConfig>& workflows, RunLedger& ledger,
                         StoreMap stores, std::shared_ptr<ObjectStore> staging, LocalEngineHost host)
    : config_(std::move(config)),
      workflows_(workflows),
      ledger_(ledger),
      stores_(std::move(stores)),
      staging_(std::move(staging)),
      host_(std::move(host)) {
  for (const auto& [id, wf] : workflows_) step_env_[id] = step_base_environment(host_.environment, wf.env);
  host_.environment.clear();  // holds the server's secrets; not needed any more
}

LocalEngine::~LocalEngine() { stop(); }

Result<std::vector<WorkflowInfo>> LocalEngine::list_workflows() {
  std::vector<WorkflowInfo> out;
  for (const auto& [id, wf] : workflows_) out.push_back({id, wf.description, wf.params, wf.schedule});
  return out;
}

Result<WorkflowInfo> LocalEngine::describe(const std::string& workflow_id) {
  auto it = workflows_.find(workflow_id);
  if (it == workflows_.end()) return Error::not_found("no such workflow: " + workflow_id);
  return WorkflowInfo{it->first, it->second.description, it->second.params, it->second.schedule};
}

Result<std::string> LocalEngine::trigger(const TriggerRequest& req) {
  if (!workflows_.count(req.run.workflow_id)) return Error::not_found("no such workflow: " + req.run.workflow_id);
  fs::path dir = run_dir(req.run.run_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error::internal_error("cannot create run folder " + dir.string() + ": " + ec.message());
  // The trigger is persisted so that a queued run can still start after a restart.
  std::ofstream(dir / "trigger.json") << json::serialize(
      json::object{{"conf", req.conf}, {"input_provider", req.input_provider}});
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Error{ErrorCode::kUnavailable, "engine stopping", "server is shutting down"};
    queue_.push_back(req.run.run_id);
  }
  cv_.notify_one();
  return req.run.run_id;
}

Result<RunStatus> LocalEngine::status(const RunRecord& run) {
  // The ledger is this engine's own state store, so the record is already current.
  return RunStatus{run.state, run.started_us, run.ended_us, run.tasks_done, run.tasks_total, run.reason};
}

Status LocalEngine::cancel(const RunRecord& run) {
  if (is_terminal(run.state)) return Error::conflict("run already finished: " + std::string(to_string(run.state)));
  std::unique_lock lock(mu_);
  auto q = std::find(queue_.begin(), queue_.end(), run.run_id);
  if (q != queue_.end()) {
    queue_.erase(q);
    lock.unlock();
    finish(run, RunState::kCanceled, "canceled by user");
    return ok_status();
  }
  auto a = active_.find(run.run_id);
  if (a == active_.end()) {
    // Between dequeue and start, or recovered after restart: the runner sees the ledger.
    lock.unlock();
    finish(run, RunState::kCanceled, "canceled by user");
    return ok_status();
  }
  request_stop(a->second, StopCause::kCancel);
  return ok_status();
}

// The supervisor passes SIGTERM to the whole step and SIGKILLs it after cancel_grace.
void LocalEngine::request_stop(Active& a, StopCause cause) {
  if (a.stop != StopCause::kNone) return;
  a.stop = cause;
  a.stop_requested = std::chrono::steady_clock::now();
  if (a.supervisor > 0) ::kill(a.supervisor, SIGTERM);
}

Result<std::shared_ptr<ByteSource>> LocalEngine::logs(const RunRecord& run) {
  fs::path p = run_dir(run.run_id) / "log.txt";
  auto whole = open_file_range(p);
  if (!whole) {
    if (whole.error().code == ErrorCode::kNotFound) return string_source("");  // not started yet
    return whole.error();
  }
  uint64_t size = (*whole)->size();
  if (size <= kMaxLogBytes) return whole;
  return open_file_range(p, size - kMaxLogBytes, kMaxLogBytes);  // the end: where a run fails
}

Result<LogSlice> LocalEngine::read_log(const RunRecord& run, uint64_t offset, size_t max) {
  fs::path p = run_dir(run.run_id) / "log.txt";
  std::error_code ec;
  uint64_t size = fs::file_size(p, ec);
  if (ec) return LogSlice{};  // not started yet
  LogSlice out{"", size};
  if (offset >= size) return out;
  auto part = open_file_range(p, offset, std::min<uint64_t>(max, size - offset));
  if (!part) return part.error();
  out.bytes = read_all(**part);
  return out;
}

void LocalEngine::start() {
  std::error_code ec;
  fs::create_directories(config_.work_dir, ec);
  if (host_.own_process) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::prctl(PR_SET_DUMPABLE, 0);
  }
  if (auto running = ledger_.list_in_state(RunState::kRunning)) {
    for (auto& run : *running) {
      spdlog::warn("run {} was running when scigate stopped; marking it failed", run.run_id);
      kill_orphaned_step(run.run_id);
      finish(run, RunState::kFailed, "scigate restarted while the run was running");
    }
  }
  if (auto queued = ledger_.list_in_state(RunState::kQueued)) {
    std::lock_guard lock(mu_);
    for (auto& run : *queued) queue_.push_back(run.run_id);
  }
  for (int i = 0; i < config_.max_parallel_runs; ++i) runners_.emplace_back([this] { runner_loop(); });
  if (host_.own_process) reaper_ = std::thread([this] { reaper_loop(); });
}

// After a crash the run's supervisor (the process group in step.pgid) may still be
// tearing its step down: it got SIGTERM when scigate died. SIGTERM again, not SIGKILL:
// killed, it could not kill what the step started outside its group. A group that is not
// a supervisor's comes from a scigate before supervisors and is killed as it used to be.
// Only if /proc shows it is really that run's (a recycled pid must not be hit).
void LocalEngine::kill_orphaned_step(const std::string& run_id) {
  std::ifstream pgid_file(run_dir(run_id) / "step.pgid");
  int pgid = 0;
  if (!(pgid_file >> pgid) || pgid <= 1) return;
  if (!proc_file_contains(pgid, "environ", std::string("SCIGATE_RUN_ID=") + run_id + '\0')) return;
  bool supervisor = proc_file_contains(pgid, "cmdline", std::string(kStepSupervisorCommand) + '\0');
  spdlog::warn("run {}: stopping {} {} left from before the restart", run_id,
               supervisor ? "step supervisor" : "process group", pgid);
  ::kill(supervisor ? pgid : -pgid, supervisor ? SIGTERM : SIGKILL);
}

// Processes re-parented to scigate (a subreaper) are what a supervisor that was itself
// killed (kill -9, OOM killer) left behind: scigate starts no other children. They are
// killed with what they started, and reaped; known supervisors are never waited for
// here, or their runner would lose their status.
void LocalEngine::reaper_loop() {
  std::unique_lock lock(mu_);
  while (!reaper_cv_.wait_for(lock, kStrayScanInterval, [this] { return stopping_; })) {
    lock.unlock();
    kill_strays();
    lock.lock();
  }
}

void LocalEngine::kill_strays() {
  std::lock_guard spawn(spawn_mu_);
  for (pid_t child : children_of(::getpid())) {
    if (spawned_.count(child)) continue;
    if (::waitpid(child, nullptr, WNOHANG) == child) continue;  // had ended: reaped
    for (pid_t pid : descendants_of(child)) ::kill(pid, SIGKILL);
    ::kill(child, SIGKILL);  // reaped at the next scan
    spdlog::warn("killed stray process {} and what it started (left by a step whose supervisor was killed)", child);
  }
}

void LocalEngine::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && runners_.empty() && !reaper_.joinable()) return;
    stopping_ = true;
    for (auto& [id, a] : active_) request_stop(a, StopCause::kShutdown);
  }
  cv_.notify_all();
  reaper_cv_.notify_all();
  for (auto& t : runners_) {
    if (t.joinable()) t.join();
  }
  runners_.clear();
  if (reaper_.joinable()) reaper_.join();
}

void LocalEngine::runner_loop() {
  while (true) {
    std::string run_id;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // queued runs stay queued in the ledger for the next start
      run_id = queue_.front();
      queue_.pop_front();
      active_[run_id] = Active{};
    }
    execute(run_id);
    std::lock_guard lock(mu_);
    active_.erase(run_id);
  }
}

LocalEngine::StopCause LocalEngine::stop_cause(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = active_.find(run_id);
  return it == active_.end() ? StopCause::kNone : it->second.stop;
}

void LocalEngine::finish(RunRecord run, RunState state, std::string reason) {
  run.state = state;
  run.reason = std::move(reason);
  run.ended_us = now_us();
  if (auto st = ledger_.update(run); !st)
    spdlog::error("run {}: cannot record final state: {}", run.run_id, st.error().internal);
}

void LocalEngine::execute(const std::string& run_id) {
  auto loaded = ledger_.get(run_id);
  if (!loaded || loaded->state != RunState::kQueued) return;  // canceled while queued
  RunRecord run = std::move(loaded).value();
  const auto wf = workflows_.find(run.workflow_id);
  fs::path dir = run_dir(run_id);
  TriggerRequest trig;
  json::object saved = read_json_file(dir / "trigger.json");
  if (wf == workflows_.end() || !saved.contains("conf")) {
    return finish(run, RunState::kFailed,
                  wf == workflows_.end() ? "workflow no longer configured" : "run trigger lost");
  }
  trig.conf = saved["conf"].as_object();
  trig.input_provider = string_or(saved, "input_provider");
  run.state = RunState::kRunning;
  run.started_us = now_us();
  run.tasks_total = static_cast<int>(wf->second.steps.size());
  run.tasks_done = 0;
  (void)ledger_.update(run);

  std::error_code ec;
  fs::create_directories(dir / "input", ec);
  fs::create_directories(dir / "output", ec);
  int log_fd = ::open((dir / "log.txt").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::ofstream log(dir / "log.txt", std::ios::app);
  auto close_log = [&] {
    if (log_fd >= 0) ::close(log_fd);
  };

  if (auto st = fetch_inputs(trig, dir / "input", log); !st) {
    close_log();
    return finish(run, RunState::kFailed, "cannot fetch input data: " + st.error().client);
  }
  std::string conf_json = json::serialize(trig.conf);
  for (const auto& step : wf->second.steps) {
    if (stop_cause(run_id) != StopCause::kNone) break;
    log << "== step " << step.id << " (" << run.tasks_done + 1 << "/" << run.tasks_total << ")" << std::endl;
    Status st = write_conf(dir / "conf.json", conf_json);
    if (st) st = run_step(run, step, dir, log_fd);
    StopCause cause = stop_cause(run_id);
    if (cause != StopCause::kNone) {
      close_log();
      return finish(run, cause == StopCause::kCancel ? RunState::kCanceled : RunState::kFailed,
                    cause == StopCause::kCancel ? "canceled by user" : "scigate stopped while the run was running");
    }
    if (!st) {
      log << "== " << st.error().internal << std::endl;
      close_log();
      return finish(run, RunState::kFailed, st.error().client);
    }
    ++run.tasks_done;
    (void)ledger_.update(run);
  }
  close_log();
  if (StopCause cause = stop_cause(run_id); cause != StopCause::kNone) {
    return finish(run, cause == StopCause::kCancel ? RunState::kCanceled : RunState::kFailed,
                  cause == StopCause::kCancel ? "canceled by user" : "scigate stopped while the run was running");
  }
  if (auto st = upload_outputs(run, dir / "output", log); !st) {
    return finish(run, RunState::kFailed, "cannot stage outputs: " + st.error().client);
  }
  log << "== run succeeded" << std::endl;
  finish(run, RunState::kSuccess, "");
}

Status LocalEngine::fetch_inputs(const TriggerRequest& trig, const fs::path& input_dir, std::ostream& log) {
  auto store = stores_.find(trig.input_provider);
  if (store == stores_.end()) return Error::internal_error("unknown input provider " + trig.input_provider);
  auto t0 = std::chrono::steady_clock::now();
  auto stats = download_prefix(*store->second, string_or(trig.conf, "in_bucket"), string_or(trig.conf, "in_prefix"),
                               input_dir, kDownloadParallelism);
  if (!stats) return stats.error();
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log << "== fetched " << stats->files << " input files (" << stats->bytes << " bytes) in " << std::fixed
      << std::setprecision(3) << took << " s" << std::endl;
  return ok_status();
}

Status LocalEngine::upload_outputs(const RunRecord& run, const fs::path& output_dir, std::ostream& log) {
  std::vector<SkippedEntry> skipped;
  auto stats = upload_folder(*staging_, run.output_bucket, run.output_prefix, output_dir, kUploadParallelism, &skipped);
  if (!stats) return stats.error();
  for (const auto& s : skipped) log << "== skipped output " << s.path << ": " << s.reason << std::endl;
  log << "== staged " << stats->files << " output files (" << stats->bytes << " bytes)" << std::endl;
  return ok_status();
}

// The step's environment: its workflow's base (step_env.h) and the per-step SCIGATE_*.
std::vector<std::string> LocalEngine::step_environment(const RunRecord& run, const WorkflowStep& step,
                                                       const fs::path& dir) const {
  std::vector<std::string> env = step_env_.at(run.workflow_id);
  env.push_back("SCIGATE_RUN_ID=" + run.run_id);
  env.push_back("SCIGATE_INPUT_DIR=" + (dir / "input").string());
  env.push_back("SCIGATE_OUTPUT_DIR=" + (dir / "output").string());
  env.push_back("SCIGATE_CONF_FILE=" + (dir / "conf.json").string());
  env.push_back("SCIGATE_STEP=" + step.id);
  return env;
}

// scigate __step-supervisor PARENT_PID GRACE_MS PROGRAM [ARGS...]
std::vector<std::string> LocalEngine::supervisor_command(const WorkflowStep& step, const std::string& path) const {
  std::vector<std::string> argv{host_.supervisor.string(), kStepSupervisorCommand, std::to_string(::getpid()),
                                std::to_string(config_.cancel_grace.count()), resolve_program(step.command[0], path)};
  argv.insert(argv.end(), step.command.begin() + 1, step.command.end());
  return argv;
}

Status LocalEngine::run_step(const RunRecord& run, const WorkflowStep& step, const fs::path& dir, int log_fd) {
  CStrings envp, argv;
  envp.storage = step_environment(run, step, dir);
  argv.storage = supervisor_command(step, env_value(envp.storage, "PATH"));
  int conf_fd = ::open((dir / "conf.json").c_str(), O_RDONLY | O_CLOEXEC);
  int report[2];
  if (conf_fd < 0 || ::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0) {
    if (conf_fd >= 0) ::close(conf_fd);
    return Error::internal_error("cannot prepare step " + step.id + ": " + std::strerror(errno));
  }
  const int fds[4] = {conf_fd, log_fd, log_fd, report[1]};
  pid_t pid = spawn_supervisor(argv.get(), envp.get(), fds, dir);
  ::close(conf_fd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Error::internal_error("fork failed: " + std::string(std::strerror(errno)));
  }
  std::ofstream(dir / "step.pgid") << pid;  // lets a restart find what a crash left behind
  {
    std::lock_guard lock(mu_);
    Active& a = active_[run.run_id];
    a.supervisor = pid;
    if (a.stop != StopCause::kNone) ::kill(pid, SIGTERM);  // stopped while it was being started
  }
  std::optional<int> status = wait_supervisor(run.run_id, pid);
  {
    std::lock_guard lock(mu_);
    active_[run.run_id].supervisor = 0;
  }
  {
    std::lock_guard spawn(spawn_mu_);
    spawned_.erase(spawned_.find(pid));
  }
  auto outcome = read_report(report[0]);
  ::close(report[0]);
  return step_outcome(step, outcome, status);
}

// Forks the supervisor and registers it in one step, as far as the stray reaper sees.
pid_t LocalEngine::spawn_supervisor(char** argv, char** envp, const int (&fds)[4], const fs::path& dir) {
  const sigset_t deferred = deferred_signals();
  std::lock_guard spawn(spawn_mu_);
  pid_t pid = ::fork();
  if (pid == 0) exec_supervisor(argv, envp, fds, dir.c_str(), deferred);
  if (pid > 0) {
    ::setpgid(pid, pid);  // also in the parent, so kill(-pid) works whoever runs first
    spawned_.insert(pid);
  }
  return pid;
}

// Polls so that a supervisor that outlives its grace period can be killed without
// another thread. Nothing when the status was lost (no one else should reap it).
std::optional<int> LocalEngine::wait_supervisor(const std::string& run_id, pid_t pid) {
  bool killed = false;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    {
      std::lock_guard lock(mu_);
      const Active& a = active_[run_id];
      if (!killed && a.stop != StopCause::kNone &&
          std::chrono::steady_clock::now() - a.stop_requested > config_.cancel_grace + kSupervisorMargin) {
        spdlog::error("run {}: step supervisor {} outlived its grace period; killing it", run_id, pid);
        ::kill(-pid, SIGKILL);  // what it leaves is re-parented to scigate and killed as strays
        killed = true;
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace scigate
