#include "engine/local_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
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
// Log bytes shipped into the ledger per run and beat, and per run in all: a step that
// floods its output must not fill the database (the local file keeps everything).
constexpr size_t kShipChunk = 256 << 10;
constexpr uint64_t kMaxShippedLog = 16 << 20;
constexpr const char* kRestartedReason = "scigate restarted while the run was running";
constexpr const char* kCanceledReason = "canceled by user";

int64_t now_us() { return to_unix_micros(std::chrono::system_clock::now()); }
int64_t to_micros(std::chrono::milliseconds d) { return d.count() * 1000; }

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

std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

json::object parse_object(const std::string& text) {
  auto v = parse_json(text);
  return (v && v->is_object()) ? v->get_object() : json::object{};
}

// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot.
// With the pid it names one process for as long as the machine runs.
std::string process_start_time(pid_t pid) {
  std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return field;
  }
  return "";
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
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

std::string this_instance_id() {
  return host_name() + ":" + std::to_string(::getpid()) + ":" + process_start_time(::getpid());
}

bool instance_gone(const std::string& instance) {
  auto first = instance.find(':');
  auto last = instance.rfind(':');
  if (first == std::string::npos || first == last || instance.substr(0, first) != host_name()) return false;
  pid_t pid = 0;
  std::string pid_text = instance.substr(first + 1, last - first - 1);
  auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (ec != std::errc() || end != pid_text.data() + pid_text.size() || pid <= 0) return false;
  return process_start_time(pid) != instance.substr(last + 1);
}

LocalEngine::LocalEngine(LocalEngineConfig config, const std::map<std::string, WorkflowConfig>& workflows,
                         RunLedger& ledger, StoreMap stores, std::shared_ptr<ObjectStore> staging, LocalEngineHost host)
    : config_(std::move(config)),
      workflows_(workflows),
      ledger_(ledger),
      stores_(std::move(stores)),
      staging_(std::move(staging)),
      host_(std::move(host)),
      instance_(host_.instance_id.empty() ? this_instance_id() : host_.instance_id) {
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
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Error{ErrorCode::kUnavailable, "engine stopping", "server is shutting down"};
  }
  // In the ledger, so that any instance sharing it can start the run, now or after a restart.
  auto data = json::serialize(json::object{{"conf", req.conf}, {"input_provider", req.input_provider}});
  if (auto st = ledger_.set_engine_data(req.run.run_id, data); !st) return st.error();
  {
    std::lock_guard lock(mu_);
    ++wakeups_;
  }
  cv_.notify_one();
  return req.run.run_id;
}

Result<RunStatus> LocalEngine::status(const RunRecord& run) {
  // The ledger is this engine's own state store, so the record is already current.
  return RunStatus{run.state, run.started_us, run.ended_us, run.tasks_done, run.tasks_total, run.reason};
}

// Through the ledger, whichever instance holds the run: an unclaimed run ends at once; a
// claimed one gets its cancel flag, which its owner's keeper reads at the next beat (at
// once when the owner is this instance).
Result<RunRecord> LocalEngine::cancel(const RunRecord& run) {
  if (is_terminal(run.state)) return Error::conflict("run already finished: " + std::string(to_string(run.state)));
  auto asked = ledger_.request_cancel(run.run_id, now_us(), kCanceledReason);
  if (!asked || is_terminal(asked->state)) return asked;
  std::lock_guard lock(mu_);
  if (auto a = active_.find(run.run_id); a != active_.end()) request_stop(a->second, StopCause::kCancel);
  return asked;
}

// The supervisor passes SIGTERM to the whole step and SIGKILLs it after cancel_grace.
void LocalEngine::request_stop(Active& a, StopCause cause) {
  if (a.stop != StopCause::kNone) return;
  a.stop = cause;
  a.stop_requested = std::chrono::steady_clock::now();
  if (a.supervisor > 0) ::kill(a.supervisor, SIGTERM);
}

// The run's log file when it ran here (or the work folder is shared), else the copy its
// owner shipped into the ledger.
Result<std::shared_ptr<ByteSource>> LocalEngine::logs(const RunRecord& run) {
  fs::path p = run_dir(run.run_id) / "log.txt";
  auto whole = open_file_range(p);
  if (!whole) {
    if (whole.error().code != ErrorCode::kNotFound) return whole.error();
    auto size = ledger_.read_log(run.run_id, 0, 0);
    if (!size) return size.error();
    uint64_t from = size->size > kMaxLogBytes ? size->size - kMaxLogBytes : 0;
    auto shipped = ledger_.read_log(run.run_id, from, kMaxLogBytes);
    if (!shipped) return shipped.error();
    return string_source(std::move(shipped->bytes));
  }
  uint64_t size = (*whole)->size();
  if (size <= kMaxLogBytes) return whole;
  return open_file_range(p, size - kMaxLogBytes, kMaxLogBytes);  // the end: where a run fails
}

Result<LogSlice> LocalEngine::read_log(const RunRecord& run, uint64_t offset, size_t max) {
  fs::path p = run_dir(run.run_id) / "log.txt";
  std::error_code ec;
  uint64_t size = fs::file_size(p, ec);
  if (ec) {
    auto shipped = ledger_.read_log(run.run_id, offset, max);
    if (!shipped) return shipped.error();
    return LogSlice{std::move(shipped->bytes), shipped->size};
  }
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
  spdlog::info("local engine: instance {}, {} runners, lease {} ms", instance_, config_.max_parallel_runs,
               config_.lease.count());
  recover();
  for (int i = 0; i < config_.max_parallel_runs; ++i) runners_.emplace_back([this] { runner_loop(); });
  keeper_ = std::thread([this] { keeper_loop(); });
  if (host_.own_process) reaper_ = std::thread([this] { reaper_loop(); });
}

// What a previous process of this host left. Runs held by a process of this host that is
// gone (or by a scigate from before claims, owner "") end now: their steps died with it.
// Their queued claims go back to the queue. Queued runs from before claims get their
// trigger from the run folder. (Later, what dead instances leave is found by its lease
// expiring, on every host alike: beat().)
void LocalEngine::recover() {
  auto dead = [](const std::string& owner) { return owner.empty() || instance_gone(owner); };
  if (auto running = ledger_.list_in_state(RunState::kRunning)) {
    for (auto& run : *running) {
      if (!dead(run.owner)) continue;
      spdlog::warn("run {} was running when scigate stopped; marking it failed", run.run_id);
      kill_orphaned_step(run.run_id);
      // The dead process may be this one's predecessor or another instance of the host.
      finish(run, RunState::kFailed,
             run.owner.empty() ? std::string(kRestartedReason)
                               : std::string(kRestartedReason) + " (its instance " + run.owner + " had stopped)");
    }
  }
  if (auto queued = ledger_.list_in_state(RunState::kQueued)) {
    for (auto& run : *queued) {
      if (!run.owner.empty() && instance_gone(run.owner)) (void)ledger_.release(run.run_id, run.owner);
      if (!run.owner.empty() || !run.engine_data.empty()) continue;
      std::string saved = read_text_file(run_dir(run.run_id) / "trigger.json");
      if (!saved.empty()) (void)ledger_.set_engine_data(run.run_id, saved);
    }
  }
  fail_lost_triggers();
}

// Runs whose trigger never reached the ledger (the instance died between the API's insert
// and the trigger) would wait for ever: they fail once they are older than a lease.
void LocalEngine::fail_lost_triggers() {
  auto queued = ledger_.list_in_state(RunState::kQueued);
  if (!queued) return;
  for (auto& run : *queued) {
    if (run.owner.empty() && run.engine_data.empty() && run.created_us < now_us() - to_micros(config_.lease)) {
      finish(run, RunState::kFailed, "run trigger lost");
    }
  }
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
  while (!stop_cv_.wait_for(lock, kStrayScanInterval, [this] { return stopping_; })) {
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
    if (stopping_ && runners_.empty() && !reaper_.joinable() && !keeper_.joinable()) return;
    stopping_ = true;
    for (auto& [id, a] : active_) request_stop(a, StopCause::kShutdown);
  }
  cv_.notify_all();
  stop_cv_.notify_all();
  for (auto& t : runners_) {
    if (t.joinable()) t.join();
  }
  runners_.clear();
  if (keeper_.joinable()) keeper_.join();
  if (reaper_.joinable()) reaper_.join();
}

// Claims from the ledger while it has work; then sleeps until a trigger here or the next
// beat (a run triggered on another instance).
void LocalEngine::runner_loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;  // queued runs stay queued in the ledger for the next start
      if (wakeups_ > 0) --wakeups_;
    }
    auto claimed = ledger_.claim_next(instance_, now_us() + to_micros(config_.lease));
    if (!claimed || !*claimed) {
      if (!claimed) spdlog::warn("local engine: cannot claim runs: {}", claimed.error().internal);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, config_.heartbeat, [this] { return stopping_ || wakeups_ > 0; });
      continue;
    }
    RunRecord run = std::move(**claimed);
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        (void)ledger_.release(run.run_id, instance_);
        return;
      }
      active_[run.run_id] = Active{};
    }
    std::string run_id = run.run_id;
    execute(std::move(run));
    ship_log(run_id);  // the whole log is in the ledger before another instance is asked for it
    std::lock_guard lock(mu_);
    active_.erase(run_id);
  }
}

// Every `heartbeat`: leases renewed, cancel flags read, logs shipped, and now and then
// what dead instances left is ended.
void LocalEngine::keeper_loop() {
  std::unique_lock lock(mu_);
  while (!stop_cv_.wait_for(lock, config_.heartbeat, [this] { return stopping_; })) {
    lock.unlock();
    beat();
    lock.lock();
  }
}

void LocalEngine::beat() {
  std::vector<std::string> active;  // taken before the heartbeat: each was claimed before it
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, a] : active_) active.push_back(id);
  }
  auto held = ledger_.heartbeat(instance_, now_us() + to_micros(config_.lease));
  if (!held) spdlog::warn("local engine: cannot renew claims: {}", held.error().internal);
  for (const auto& id : active) {
    ship_log(id);
    if (!held) continue;
    if (auto h = held->find(id); h != held->end()) {
      if (!h->second) continue;
      std::lock_guard lock(mu_);
      if (auto a = active_.find(id); a != active_.end()) request_stop(a->second, StopCause::kCancel);
    } else if (auto now = ledger_.get(id); now && now->owner != instance_) {
      // Not renewed: it has just ended here, or another instance ended it while this one
      // stalled, and then its step stops now rather than at its next write.
      stop_lost_claim(id);
    }
  }
  auto expired = ledger_.expire_leases(now_us());
  if (!expired) spdlog::warn("local engine: cannot check expired claims: {}", expired.error().internal);
  for (const auto& run : expired ? *expired : std::vector<RunRecord>{}) {
    spdlog::warn("run {}: {}", run.run_id, run.reason);
  }
  // A trigger lost with its instance is found by a scan of the queue, once per lease:
  // rare, and not worth a query per beat.
  if (++beats_ * config_.heartbeat >= config_.lease) {
    beats_ = 0;
    fail_lost_triggers();
  }
  cv_.notify_all();  // runners look for runs triggered on other instances
}

// Ships what the ledger does not hold yet of this instance's log of the run.
void LocalEngine::ship_log(const std::string& run_id) {
  uint64_t from;
  {
    std::lock_guard lock(mu_);
    auto a = active_.find(run_id);
    if (a == active_.end()) return;
    from = a->second.log_shipped;
  }
  fs::path p = run_dir(run_id) / "log.txt";
  std::error_code ec;
  uint64_t size = fs::file_size(p, ec);
  if (ec) return;
  while (from < size && from < kMaxShippedLog) {
    auto part = open_file_range(p, from, std::min<uint64_t>({kShipChunk, size - from, kMaxShippedLog - from}));
    if (!part) return;
    std::string bytes = read_all(**part);
    if (bytes.empty()) return;
    if (auto st = ledger_.append_log(run_id, from, bytes); !st) {
      spdlog::warn("run {}: cannot ship its log: {}", run_id, st.error().internal);
      return;
    }
    from += bytes.size();
    std::lock_guard lock(mu_);
    if (auto a = active_.find(run_id); a != active_.end())
      a->second.log_shipped = std::max(a->second.log_shipped, from);
  }
}

LocalEngine::StopCause LocalEngine::stop_cause(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto it = active_.find(run_id);
  return it == active_.end() ? StopCause::kNone : it->second.stop;
}

RunRecord LocalEngine::finish(RunRecord run, RunState state, std::string reason) {
  run.state = state;
  run.reason = std::move(reason);
  run.ended_us = now_us();
  if (auto st = ledger_.update(run); !st)
    spdlog::error("run {}: cannot record final state: {}", run.run_id, st.error().internal);
  return run;
}

void LocalEngine::finish_stopped(const RunRecord& run, StopCause cause) {
  if (cause == StopCause::kClaimLost) return;  // the instance that took it over recorded its end
  finish(run, cause == StopCause::kCancel ? RunState::kCanceled : RunState::kFailed,
         cause == StopCause::kCancel ? kCanceledReason : "scigate stopped while the run was running");
}

bool LocalEngine::record(const RunRecord& run) {
  auto st = ledger_.update(run);
  if (st || st.error().code != ErrorCode::kConflict) return true;  // a failed write is retried by the next one
  stop_lost_claim(run.run_id);
  return false;
}

void LocalEngine::stop_lost_claim(const std::string& run_id) {
  spdlog::error("run {}: this instance lost its claim on the run (another one ended it); stopping it", run_id);
  std::lock_guard lock(mu_);
  if (auto a = active_.find(run_id); a != active_.end()) request_stop(a->second, StopCause::kClaimLost);
}

void LocalEngine::execute(RunRecord run) {
  const std::string run_id = run.run_id;
  if (run.cancel_requested) {
    finish(run, RunState::kCanceled, kCanceledReason);
    return;
  }
  const auto wf = workflows_.find(run.workflow_id);
  fs::path dir = run_dir(run_id);
  TriggerRequest trig;
  json::object saved = parse_object(run.engine_data);
  if (wf == workflows_.end() || !saved.contains("conf") || !saved["conf"].is_object()) {
    finish(run, RunState::kFailed, wf == workflows_.end() ? "workflow no longer configured" : "run trigger lost");
    return;
  }
  trig.conf = saved["conf"].as_object();
  trig.input_provider = string_or(saved, "input_provider");
  run.state = RunState::kRunning;
  run.started_us = now_us();
  run.tasks_total = static_cast<int>(wf->second.steps.size());
  run.tasks_done = 0;
  if (!record(run)) return;

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
    finish(run, RunState::kFailed, "cannot fetch input data: " + st.error().client);
    return;
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
      finish_stopped(run, cause);
      return;
    }
    if (!st) {
      log << "== " << st.error().internal << std::endl;
      close_log();
      finish(run, RunState::kFailed, st.error().client);
      return;
    }
    ++run.tasks_done;
    record(run);
  }
  close_log();
  if (StopCause cause = stop_cause(run_id); cause != StopCause::kNone) {
    finish_stopped(run, cause);
    return;
  }
  if (auto st = upload_outputs(run, dir / "output", log); !st) {
    finish(run, RunState::kFailed, "cannot stage outputs: " + st.error().client);
    return;
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
