#include "engine/step_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "engine/process_tree.h"

extern char** environ;

namespace scigate {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kIdleWake{1000};  // a safety net only: SIGCHLD and SIGTERM wake the loop
constexpr milliseconds kKillRetry{5};    // between rounds of SIGKILL while descendants remain

struct Args {
  pid_t parent = 0;
  milliseconds grace{0};
  char** program = nullptr;  // NULL-terminated, as main's argv is
};

std::optional<Args> parse_args(int argc, char** argv) {
  if (argc < 3) return std::nullopt;
  Args a;
  try {
    a.parent = static_cast<pid_t>(std::stol(argv[0]));
    a.grace = milliseconds(std::stoll(argv[1]));
  } catch (...) {
    return std::nullopt;
  }
  if (a.parent <= 1 || a.grace.count() < 0) return std::nullopt;
  a.program = argv + 2;
  return a;
}

// SIGTERM, SIGINT and SIGHUP mean "stop the step"; SIGCHLD that a child ended. All stay
// blocked and are taken with sigtimedwait, so none is lost and no handler is needed.
sigset_t supervised_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, sig);
  return set;
}

// In the forked child until exec: async-signal-safe calls only.
[[noreturn]] void exec_step(char** program, int error_fd) {
  ::setpgid(0, 0);
  ::signal(SIGPIPE, SIG_DFL);  // scigate ignores it; steps expect the default
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(program[0], program, environ);
  int err = errno;
  (void)!::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

class Supervisor {
 public:
  explicit Supervisor(const Args& args) : args_(args) {}

  StepReport run() {
    int exec_errno = start_step();
    if (step_ < 0) return {StepReport::kNotStarted, exec_errno};
    if (exec_errno == 0) wait_step();
    kill_all();
    if (exec_errno != 0) return {StepReport::kNotStarted, exec_errno};
    if (!step_status_) return {StepReport::kSignaled, SIGKILL};  // not reached: kill_all reaps every child
    if (WIFEXITED(*step_status_)) return {StepReport::kExited, WEXITSTATUS(*step_status_)};
    return {StepReport::kSignaled, WTERMSIG(*step_status_)};
  }

 private:
  // Forks and execs the step in its own process group; returns exec's errno, 0 when the
  // program runs. A CLOEXEC pipe tells the two apart: exec closes it, a failure writes.
  int start_step() {
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return errno;
    step_ = ::fork();
    if (step_ == 0) exec_step(args_.program, err_pipe[1]);
    int fork_errno = errno;
    ::close(err_pipe[1]);
    if (step_ < 0) {
      ::close(err_pipe[0]);
      return fork_errno;
    }
    ::setpgid(step_, step_);  // also here, so that signalling the group works whoever runs first
    int exec_errno = 0;
    ssize_t n;
    do {
      n = ::read(err_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    ::close(err_pipe[0]);
    return n == sizeof exec_errno ? exec_errno : 0;
  }

  // Until the step's main process ends, or the grace period after a SIGTERM runs out.
  void wait_step() {
    sigset_t set = supervised_signals();
    while (true) {
      reap();
      if (step_status_) return;
      auto wait = kIdleWake;
      if (term_at_) {
        auto left = std::chrono::duration_cast<milliseconds>(*term_at_ + args_.grace - Clock::now());
        if (left.count() <= 0) return;
        wait = std::min(wait, left);
      }
      timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1'000'000};
      int sig = ::sigtimedwait(&set, nullptr, &ts);
      if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !term_at_) {
        term_at_ = Clock::now();
        signal_all(SIGTERM);
      }
    }
  }

  // The step's group while its leader is unreaped (afterwards the group id could be
  // reused), and every descendant, including those that left the group or the session.
  std::set<pid_t> signal_all(int sig) {
    if (!step_status_) ::kill(-step_, sig);
    std::set<pid_t> hit;
    for (pid_t pid : descendants_of(::getpid())) {
      if (::kill(pid, sig) == 0) hit.insert(pid);
    }
    return hit;
  }

  // SIGKILL to everything below us until nothing is left. Orphans re-parent to us (we are
  // a subreaper), so "no child left" means "no descendant left"; a process forked while we
  // looked is caught in the next round.
  void kill_all() {
    std::set<pid_t> killed;
    while (reap()) {
      killed.merge(signal_all(SIGKILL));
      std::this_thread::sleep_for(kKillRetry);
    }
    killed.erase(step_);
    if (!killed.empty()) {
      std::cerr << "== killed " << killed.size() << " process" << (killed.size() == 1 ? "" : "es")
                << " the step left running" << std::endl;
    }
  }

  // Collects every child that has ended and keeps the step's status; false when no
  // child is left at all.
  bool reap() {
    while (true) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        if (pid == step_) step_status_ = status;
        continue;
      }
      if (pid == 0) return true;
      if (errno != EINTR) return false;  // ECHILD
    }
  }

  Args args_;
  pid_t step_ = -1;
  std::optional<int> step_status_;
  std::optional<Clock::time_point> term_at_;
};

}  // namespace

std::string describe_step_report(const StepReport& r) {
  auto errno_text = [](int err) {
    const char* name = ::strerrorname_np(err);
    return std::string(::strerrordesc_np(err) ? ::strerrordesc_np(err) : "unknown error") +
           (name ? " (" + std::string(name) + ")" : "");
  };
  switch (r.kind) {
    case StepReport::kExited:
      return "exited with status " + std::to_string(r.value);
    case StepReport::kSignaled: {
      const char* what = ::sigdescr_np(r.value);
      return "was killed by signal " + std::to_string(r.value) + (what ? " (" + std::string(what) + ")" : "");
    }
    case StepReport::kNotStarted:
      return "could not start: " + errno_text(r.value);
    case StepReport::kSupervisorNotStarted:
      return "could not start: the step supervisor could not be run: " + errno_text(r.value);
    default:
      return "ended without a report";
  }
}

int run_step_supervisor(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) {
    std::cerr << "usage: scigate " << kStepSupervisorCommand << " PARENT_PID GRACE_MS PROGRAM [ARGS...]\n"
              << "(started by scigate's local engine for each workflow step; not meant to be run by hand)\n";
    return 2;
  }
  sigset_t set = supervised_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGCHLD, SIG_DFL);  // SIG_IGN would reap children behind our back
  // scigate dead (even by kill -9) = a cancel: the step must not run on unsupervised.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Only the supervisor may report: a step holding the pipe could forge its own outcome.
  ::fcntl(kStepReportFd, F_SETFD, FD_CLOEXEC);
  if (::getppid() != args->parent) return 1;  // scigate died before PDEATHSIG was set
  StepReport report = Supervisor(*args).run();
  (void)!::write(kStepReportFd, &report, sizeof report);
  return 0;
}

}  // namespace scigate
