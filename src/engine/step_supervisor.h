// The step supervisor: one small process between the local engine and each workflow
// step, so that nothing a step starts outlives it, whatever it does (setsid, double
// fork, daemonizing) and however scigate ends (even kill -9).
//
// The engine re-executes scigate's own binary as
//   scigate __step-supervisor PARENT_PID GRACE_MS PROGRAM [ARGS...]
// with the step's environment, working folder, stdin (the conf), stdout/stderr (the run
// log) and a report pipe on descriptor 3. A separate process, rather than code in
// scigate, because that code must loop, read /proc and wait for signals, which a forked
// child of a multi-threaded server may not do before exec.
//
// The supervisor is a child subreaper (every orphan below it becomes its child, so it
// sees all of them) and asks for SIGTERM when scigate's runner thread dies. It runs the
// step in the step's own process group (a step's `kill 0` must not hit the supervisor).
// On SIGTERM (cancel, shutdown, scigate died) it passes SIGTERM to every descendant and,
// after GRACE_MS, goes on as below. When the step's main process ends, or the grace
// period runs out, it SIGKILLs every remaining descendant until none is left, reaps them
// all, then writes one StepReport to descriptor 3 and exits.
#pragma once

#include <cstdint>
#include <string>

namespace scigate {

// The hidden command word that runs the supervisor (not listed in scigate's usage).
inline constexpr const char* kStepSupervisorCommand = "__step-supervisor";
// The descriptor the supervisor reports on; it is closed in the step.
inline constexpr int kStepReportFd = 3;

// How a step ended. Fixed-size and written with one write() (atomic on a pipe), also
// from a forked child between fork and exec, where nothing may be formatted.
struct StepReport {
  enum Kind : int32_t { kNone = 0, kExited = 1, kSignaled = 2, kNotStarted = 3, kSupervisorNotStarted = 4 };
  int32_t kind = kNone;
  int32_t value = 0;  // exit status, signal number or errno
};

// "exited with status 3", "was killed by signal 9 (Killed)",
// "could not start: No such file or directory (ENOENT)".
std::string describe_step_report(const StepReport& report);

// The hidden command's entry point; argv starts after the command word. Returns the
// process's exit status (2 for bad arguments, 1 when scigate was already gone).
int run_step_supervisor(int argc, char** argv);

}  // namespace scigate
