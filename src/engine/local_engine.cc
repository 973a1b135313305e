#include "engine/local_engine.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/json_util.h"
#include "storage/transfer.h"

namespace fs = std::filesystem;
namespace json = boost::json;

extern char** environ;

namespace scigate {

namespace {

constexpr size_t kMaxLogBytes = 4 << 20;
constexpr int kUploadParallelism = 4;
// Inputs are often many small files, where each GET waits on the store's latency rather
// than on bandwidth: more of them at once (awscli uses 10).
constexpr int kDownloadParallelism = 16;
constexpr auto kPollInterval = std::chrono::milliseconds(20);

int64_t now_us() { return to_unix_micros(std::chrono::system_clock::now()); }

// PATH lookup done before fork, so the child only calls async-signal-safe functions.
std::string resolve_program(const std::string& prog) {
  if (prog.find('/') != std::string::npos) return prog;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
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

// A step may exit without reading its stdin. The write must then fail with EPIPE rather
// than raise SIGPIPE, whatever the process's disposition: block it on this thread and
// swallow the pending signal.
void write_all(int fd, const std::string& data) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  size_t off = 0;
  bool broken = false;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken = errno == EPIPE;
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (broken) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
}

}  // namespace

LocalEngine::LocalEngine(EngineConfig config, const std::map<std::string, WorkflowConfig>& workflows, RunLedger& ledger,
                         StoreMap stores, std::shared_ptr<ObjectStore> staging)
    : config_(std::move(config)),
      workflows_(workflows),
      ledger_(ledger),
      stores_(std::move(stores)),
      staging_(std::move(staging)) {}

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
  if (a->second.stop == StopCause::kNone) {
    a->second.stop = StopCause::kCancel;
    a->second.stop_requested = std::chrono::steady_clock::now();
    if (a->second.pgid > 0) ::kill(-a->second.pgid, SIGTERM);
  }
  return ok_status();
}

Result<std::string> LocalEngine::logs(const RunRecord& run) {
  fs::path p = run_dir(run.run_id) / "log.txt";
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::string();
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t start = size > kMaxLogBytes ? size - kMaxLogBytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

void LocalEngine::start() {
  std::error_code ec;
  fs::create_directories(config_.work_dir, ec);
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
}

// After a crash a step's process group may still run. Kill it only if /proc shows it
// is really that run's step (a recycled pid must not be hit).
void LocalEngine::kill_orphaned_step(const std::string& run_id) {
  std::ifstream pgid_file(run_dir(run_id) / "step.pgid");
  int pgid = 0;
  if (!(pgid_file >> pgid) || pgid <= 1) return;
  std::ifstream environ_file("/proc/" + std::to_string(pgid) + "/environ", std::ios::binary);
  std::string env((std::istreambuf_iterator<char>(environ_file)), {});
  if (env.find(std::string("SCIGATE_RUN_ID=") + run_id + '\0') == std::string::npos) return;
  spdlog::warn("run {}: killing process group {} left from before the restart", run_id, pgid);
  ::kill(-pgid, SIGKILL);
}

void LocalEngine::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && runners_.empty()) return;
    stopping_ = true;
    for (auto& [id, a] : active_) {
      if (a.stop == StopCause::kNone) {
        a.stop = StopCause::kShutdown;
        a.stop_requested = std::chrono::steady_clock::now();
        if (a.pgid > 0) ::kill(-a.pgid, SIGTERM);
      }
    }
  }
  cv_.notify_all();
  for (auto& t : runners_) {
    if (t.joinable()) t.join();
  }
  runners_.clear();
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
    Status st = run_step(run, step, conf_json, dir, log_fd);
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
  size_t skipped = 0;
  auto stats = upload_folder(*staging_, run.output_bucket, run.output_prefix, output_dir, kUploadParallelism, &skipped);
  if (!stats) return stats.error();
  if (skipped) log << "== skipped " << skipped << " outputs with unusable names" << std::endl;
  log << "== staged " << stats->files << " output files (" << stats->bytes << " bytes)" << std::endl;
  return ok_status();
}

Status LocalEngine::run_step(const RunRecord& run, const WorkflowStep& step, const std::string& conf_json,
                             const fs::path& dir, int log_fd) {
  CStrings argv, envp;
  argv.storage = step.command;
  argv.storage[0] = resolve_program(step.command[0]);
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "SCIGATE_", 8) != 0) envp.storage.emplace_back(*e);
  }
  envp.storage.push_back("SCIGATE_RUN_ID=" + run.run_id);
  envp.storage.push_back("SCIGATE_INPUT_DIR=" + (dir / "input").string());
  envp.storage.push_back("SCIGATE_OUTPUT_DIR=" + (dir / "output").string());
  envp.storage.push_back("SCIGATE_CONF=" + conf_json);
  envp.storage.push_back("SCIGATE_STEP=" + step.id);
  int in_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return Error::internal_error("pipe failed");
  char** argv_c = argv.get();
  char** envp_c = envp.get();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return Error::internal_error("fork failed");
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);  // the server ignores it; steps expect the default
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in_pipe[0], 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    // Nothing of the server's (listening socket, ledger, client connections) may leak
    // into a step: an orphaned step would otherwise keep the port bound after a crash.
    ::close_range(3, ~0U, 0);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execve(argv_c[0], argv_c, envp_c);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so kill(-pid) works whoever runs first
  ::close(in_pipe[0]);
  std::ofstream(dir / "step.pgid") << pid;  // lets a restart kill what a crash left behind
  {
    std::lock_guard lock(mu_);
    active_[run.run_id].pgid = pid;
    if (active_[run.run_id].stop != StopCause::kNone) ::kill(-pid, SIGTERM);
  }
  write_all(in_pipe[1], conf_json);
  ::close(in_pipe[1]);
  int status = wait_child(run.run_id, pid);
  ::kill(-pid, SIGKILL);  // no step may leave processes behind
  {
    std::lock_guard lock(mu_);
    active_[run.run_id].pgid = 0;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok_status();
  std::string what = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                       : "was killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) what += " (program not found or not executable)";
  return Error{ErrorCode::kInternal, "step " + step.id + " " + what, "step '" + step.id + "' " + what};
}

// Polls so that a cancel's grace period can escalate to SIGKILL without another thread.
int LocalEngine::wait_child(const std::string& run_id, int pid) {
  bool killed = false;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return status;
    {
      std::lock_guard lock(mu_);
      const Active& a = active_[run_id];
      if (!killed && a.stop != StopCause::kNone &&
          std::chrono::steady_clock::now() - a.stop_requested > config_.cancel_grace) {
        ::kill(-pid, SIGKILL);
        killed = true;
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace scigate
