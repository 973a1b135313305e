#include "engine/local_engine.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "engine/step_env.h"
#include "ledger/sqlite_ledger.h"
#include "storage/local_store.h"
#include "temp_dir.h"

namespace json = boost::json;
namespace fs = std::filesystem;

namespace scigate {
namespace {

using testing::TempDir;

WorkflowConfig workflow(const std::string& id, std::vector<WorkflowStep> steps, std::vector<StepEnvVar> env = {}) {
  WorkflowConfig wf;
  wf.id = id;
  wf.description = "d";
  wf.steps = std::move(steps);
  wf.env = std::move(env);
  return wf;
}

bool pid_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Waits for a file a step writes (a pid), for the tests that look at processes.
pid_t read_pid_file(const fs::path& p) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(p);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "no pid in " << p;
  return 0;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LocalEngineTest : public ::testing::Test {
 protected:
  std::string log_of(const RunRecord& run) {
    auto source = engine_->logs(run);
    return source ? read_all(**source) : "(no logs: " + source.error().internal + ")";
  }
  void SetUp() override {
    ledger_ = std::move(SqliteLedger::open(dir_.path() / "ledger.db")).value();
    auto store = std::make_shared<LocalObjectStore>("local", dir_.path() / "buckets", "http://gw", "k");
    stores_["local"] = store;
    staging_ = store;
    ASSERT_TRUE(store->put("inputs", "col/img1.txt", "one"));
    ASSERT_TRUE(store->put("inputs", "col/sub/img2.txt", "two"));
    ASSERT_TRUE(store->put("inputs", "elsewhere.txt", "not in the selection"));
  }

  std::string script(const std::string& name, const std::string& body) {
    fs::path p = dir_.path() / name;
    std::ofstream(p) << "#!/bin/bash\n" << body << "\n";
    ::chmod(p.c_str(), 0755);
    return p.string();
  }

  void make_engine(int parallel = 2) { engine_ = make_instance("", "runs", parallel); }

  // An engine on the test's ledger; several with their own `instance` and work folder
  // behave as instances on several machines sharing one ledger.
  std::unique_ptr<LocalEngine> make_instance(const std::string& instance, const std::string& work_dir, int parallel) {
    LocalEngineConfig cfg;
    cfg.max_parallel_runs = parallel;
    cfg.work_dir = dir_.path() / work_dir;
    cfg.cancel_grace = std::chrono::milliseconds(300);
    cfg.lease = std::chrono::milliseconds(1500);
    cfg.heartbeat = std::chrono::milliseconds(100);
    // The real supervisor: the scigate binary built with these tests.
    LocalEngineHost host{SCIGATE_BINARY, current_environment(), false, instance};
    return std::make_unique<LocalEngine>(cfg, workflows_, *ledger_, stores_, staging_, host);
  }

  RunRecord trigger(const std::string& id, const std::string& wf, json::object extra = {}) {
    RunRecord r;
    r.run_id = id;
    r.workflow_id = wf;
    r.username = "thomas";
    r.data_selection = "col";
    r.output_bucket = "staging";
    r.output_prefix = "thomas/" + id + "/";
    r.engine_run_id = id;
    r.created_us = to_unix_micros(std::chrono::system_clock::now());
    EXPECT_TRUE(ledger_->insert(r));
    json::object conf{{"greeting", "hi"},        {"in_bucket", "inputs"},        {"in_prefix", "col/"},
                      {"out_bucket", "staging"}, {"out_prefix", "thomas/" + id}, {"username", "thomas"}};
    for (const auto& kv : extra) conf[kv.key()] = kv.value();
    auto eid = engine_->trigger({r, conf, "local"});
    EXPECT_TRUE(eid);
    return r;
  }

  RunRecord wait_for(const std::string& id, std::function<bool(const RunRecord&)> pred) {
    for (int i = 0; i < 500; ++i) {
      auto r = ledger_->get(id);
      if (r && pred(*r)) return *r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "timed out waiting for run " << id;
    return ledger_->get(id).value();
  }
  RunRecord make_run_running() {
    RunRecord r;
    r.run_id = "was-running";
    r.workflow_id = "quick";
    r.username = "thomas";
    r.data_selection = "col";
    r.output_bucket = "staging";
    r.output_prefix = "thomas/was-running/";
    r.state = RunState::kRunning;
    r.created_us = 1;
    r.started_us = 2;
    EXPECT_TRUE(ledger_->insert(r));
    return r;
  }
  RunRecord wait_terminal(const std::string& id) {
    return wait_for(id, [](const RunRecord& r) { return is_terminal(r.state); });
  }

  TempDir dir_;
  std::unique_ptr<SqliteLedger> ledger_;
  StoreMap stores_;
  std::shared_ptr<ObjectStore> staging_;
  std::map<std::string, WorkflowConfig> workflows_;
  std::unique_ptr<LocalEngine> engine_;
};

TEST_F(LocalEngineTest, RunsStepsWithConfAndEnvAndStagesOutputs) {
  workflows_["two"] = workflow(
      "two",
      {{"first", {script("first.sh", R"(conf=$(cat)
echo "conf=$conf"
ls -R "$SCIGATE_INPUT_DIR" > "$SCIGATE_OUTPUT_DIR/inputs.txt"
mkdir -p "$SCIGATE_OUTPUT_DIR/nested"
echo "$SCIGATE_RUN_ID" > "$SCIGATE_OUTPUT_DIR/nested/id.txt"
cp "$SCIGATE_CONF_FILE" "$SCIGATE_OUTPUT_DIR/conf.json"
pwd > "$SCIGATE_OUTPUT_DIR/pwd.txt")")}},
       {"second", {script("second.sh", R"(cat "$SCIGATE_INPUT_DIR/sub/img2.txt" > "$SCIGATE_OUTPUT_DIR/copied.txt"
echo second-ran)")}}});
  make_engine();
  engine_->start();
  auto run = trigger("run-ok", "two");
  auto done = wait_terminal("run-ok");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason;
  EXPECT_EQ(done.tasks_done, 2);
  EXPECT_EQ(done.tasks_total, 2);
  EXPECT_GT(done.started_us, 0);
  EXPECT_GE(done.ended_us, done.started_us);
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/nested/id.txt").value(), "run-ok\n");
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/copied.txt").value(), "two");
  std::string inputs = staging_->get("staging", "thomas/run-ok/inputs.txt").value();
  EXPECT_NE(inputs.find("img1.txt"), std::string::npos);
  EXPECT_EQ(inputs.find("elsewhere"), std::string::npos);
  auto conf = json::parse(staging_->get("staging", "thomas/run-ok/conf.json").value());
  EXPECT_EQ(conf.at("greeting"), "hi");
  EXPECT_EQ(conf.at("username"), "thomas");
  EXPECT_EQ(staging_->get("staging", "thomas/run-ok/pwd.txt").value(), (dir_.path() / "runs/run-ok").string() + "\n");
  std::string logs = log_of(done);
  EXPECT_NE(logs.find("conf={\"greeting\":\"hi\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("second-ran"), std::string::npos);
  EXPECT_NE(logs.find("== step second (2/2)"), std::string::npos);
}

TEST_F(LocalEngineTest, NonZeroExitFailsTheRunAndStopsLaterSteps) {
  workflows_["bad"] = workflow("bad", {{"a", {script("a.sh", "echo a-ran")}},
                                       {"b", {script("b.sh", "echo failing >&2; exit 3")}},
                                       {"c", {script("c.sh", "touch \"$SCIGATE_OUTPUT_DIR/c-ran\"")}}});
  make_engine();
  engine_->start();
  trigger("run-bad", "bad");
  auto done = wait_terminal("run-bad");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_EQ(done.reason, "step 'b' exited with status 3");
  EXPECT_EQ(done.tasks_done, 1);
  EXPECT_FALSE(fs::exists(dir_.path() / "runs/run-bad/output/c-ran"));
  EXPECT_NE(log_of(done).find("failing"), std::string::npos);
}

TEST_F(LocalEngineTest, MissingProgramFailsClearly) {
  workflows_["missing"] = workflow("missing", {{"x", {"/nonexistent/program"}}});
  make_engine();
  engine_->start();
  trigger("run-missing", "missing");
  auto done = wait_terminal("run-missing");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_EQ(done.reason, "step 'x' could not start: No such file or directory (ENOENT)");
  EXPECT_NE(log_of(done).find("== step x could not start: No such file or directory (ENOENT) (program "
                              "/nonexistent/program)"),
            std::string::npos)
      << log_of(done);
}

TEST_F(LocalEngineTest, AStepThatReallyExits127IsNotMistakenForAMissingProgram) {
  workflows_["x127"] = workflow("x127", {{"x", {"/bin/sh", "-c", "exit 127"}}});
  make_engine();
  engine_->start();
  trigger("run-127", "x127");
  EXPECT_EQ(wait_terminal("run-127").reason, "step 'x' exited with status 127");
}

TEST_F(LocalEngineTest, ASupervisorThatCannotStartIsReportedWithItsErrno) {
  // One argument over the kernel's 128 KiB limit per string: exec fails with E2BIG.
  workflows_["huge"] = workflow("huge", {{"x", {"/bin/echo", std::string(200 << 10, 'a')}}});
  make_engine();
  engine_->start();
  trigger("run-huge", "huge");
  auto done = wait_terminal("run-huge");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_EQ(done.reason,
            "step 'x' could not start: the step supervisor could not be run: Argument list too long (E2BIG)");
}

TEST_F(LocalEngineTest, AParameterLongerThanTheEnvironmentAllowsReachesTheStep) {
  // 200 KiB: more than one environment string may hold, so the conf must not travel there.
  workflows_["long"] = workflow("long", {{"read", {script("read.sh", R"(/usr/bin/python3 -c '
import json, os, sys
a = json.load(sys.stdin)["text"]
b = json.load(open(os.environ["SCIGATE_CONF_FILE"]))["text"]
open(os.environ["SCIGATE_OUTPUT_DIR"] + "/sizes.txt", "w").write("%d %d %s" % (len(a), len(b), "SCIGATE_CONF" in os.environ))
')")}}});
  make_engine();
  engine_->start();
  trigger("run-long", "long", json::object{{"text", std::string(200 << 10, 'x')}});
  auto done = wait_terminal("run-long");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason << log_of(done);
  EXPECT_EQ(staging_->get("staging", "thomas/run-long/sizes.txt").value(), "204800 204800 False");
}

TEST_F(LocalEngineTest, StepsSeeOnlyAllowListedAndNamedVariables) {
  ::setenv("JWT_LIKE_SECRET", "jwt-secret-value", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value", 1);
  ::setenv("SCIGATE_IT_SECRET", "it-secret-value", 1);
  ::setenv("PASSED_THROUGH", "passed-value", 1);
  ::setenv("LC_TIME", "C", 1);
  workflows_["env"] = workflow("env", {{"dump", {"/bin/sh", "-c", "env > \"$SCIGATE_OUTPUT_DIR/env.txt\""}}},
                               {{"PASSED_THROUGH", std::nullopt}, {"LITERAL", "literal-value"}, {"ABSENT", {}}});
  make_engine();
  ::unsetenv("JWT_LIKE_SECRET");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("SCIGATE_IT_SECRET");
  ::unsetenv("PASSED_THROUGH");
  engine_->start();
  trigger("run-env", "env");
  auto done = wait_terminal("run-env");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason;
  std::string env = staging_->get("staging", "thomas/run-env/env.txt").value();
  for (const char* secret : {"jwt-secret-value", "aws-secret-value", "it-secret-value", "AWS_SECRET"}) {
    EXPECT_EQ(env.find(secret), std::string::npos) << secret << " in\n" << env;
  }
  for (const char* expected :
       {"PASSED_THROUGH=passed-value\n", "LITERAL=literal-value\n", "LC_TIME=C\n", "SCIGATE_RUN_ID=run-env\n",
        "SCIGATE_STEP=dump\n", "SCIGATE_CONF_FILE=", "SCIGATE_INPUT_DIR=", "SCIGATE_OUTPUT_DIR="}) {
    EXPECT_NE(env.find(expected), std::string::npos) << expected << " not in\n" << env;
  }
  EXPECT_EQ(env.rfind("PATH=", 0) == 0 || env.find("\nPATH=") != std::string::npos, true) << env;
  EXPECT_EQ(env.find("ABSENT"), std::string::npos);
  EXPECT_EQ(env.find("SCIGATE_CONF="), std::string::npos);
}

// A step's daemons (setsid, double fork) die with it: on success, on cancel, on restart.
constexpr const char* kDaemons =
    R"(setsid sleep 300 & echo $! > "$SCIGATE_OUTPUT_DIR/../setsid.pid"
bash -c 'setsid sleep 300 & echo $! > "$SCIGATE_OUTPUT_DIR/../double.pid"')";

TEST_F(LocalEngineTest, NothingAStepStartedOutlivesItsSuccess) {
  workflows_["daemon"] = workflow("daemon", {{"d", {script("daemon.sh", kDaemons)}}});
  make_engine();
  engine_->start();
  trigger("run-daemon", "daemon");
  auto done = wait_terminal("run-daemon");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason;
  pid_t setsid_pid = read_pid_file(dir_.path() / "runs/run-daemon/setsid.pid");
  pid_t double_pid = read_pid_file(dir_.path() / "runs/run-daemon/double.pid");
  EXPECT_TRUE(pid_gone(setsid_pid));  // already reaped by the supervisor when the run ends
  EXPECT_TRUE(pid_gone(double_pid));
  EXPECT_NE(log_of(done).find("== killed 2 processes the step left running"), std::string::npos) << log_of(done);
}

TEST_F(LocalEngineTest, NothingAStepStartedOutlivesItsCancel) {
  workflows_["daemon"] = workflow("daemon", {{"d", {script("daemon.sh", std::string(kDaemons) + "\nsleep 300")}}});
  make_engine();
  engine_->start();
  trigger("run-daemon-cancel", "daemon");
  auto running = wait_for("run-daemon-cancel", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  pid_t setsid_pid = read_pid_file(dir_.path() / "runs/run-daemon-cancel/setsid.pid");
  pid_t double_pid = read_pid_file(dir_.path() / "runs/run-daemon-cancel/double.pid");
  EXPECT_FALSE(pid_gone(setsid_pid));
  ASSERT_TRUE(engine_->cancel(running));
  EXPECT_EQ(wait_terminal("run-daemon-cancel").state, RunState::kCanceled);
  EXPECT_TRUE(pid_gone(setsid_pid));
  EXPECT_TRUE(pid_gone(double_pid));
}

TEST_F(LocalEngineTest, SymbolicLinksAmongOutputsAreNeverFollowed) {
  fs::create_directories(dir_.path() / "outside/dir");
  std::ofstream(dir_.path() / "outside/secret.txt") << "server-only";
  std::ofstream(dir_.path() / "outside/dir/inner.txt") << "server-only too";
  std::string outside = (dir_.path() / "outside").string();
  workflows_["links"] = workflow("links", {{"l",
                                            {script("links.sh",
                                                    "cd \"$SCIGATE_OUTPUT_DIR\"\n"
                                                    "echo fine > real.txt\n"
                                                    "mkdir sub && echo nested > sub/n.txt\n"
                                                    "ln -s " +
                                                        outside +
                                                        "/secret.txt file_link\n"
                                                        "ln -s " +
                                                        outside +
                                                        "/dir sub/dir_link\n"
                                                        "mkfifo pipe\n")}}});
  make_engine();
  engine_->start();
  trigger("run-links", "links");
  auto done = wait_terminal("run-links");
  ASSERT_EQ(done.state, RunState::kSuccess) << done.reason;
  EXPECT_EQ(staging_->get("staging", "thomas/run-links/real.txt").value(), "fine\n");
  EXPECT_EQ(staging_->get("staging", "thomas/run-links/sub/n.txt").value(), "nested\n");
  EXPECT_FALSE(staging_->get("staging", "thomas/run-links/file_link"));
  EXPECT_FALSE(staging_->get("staging", "thomas/run-links/sub/dir_link/inner.txt"));
  EXPECT_FALSE(staging_->get("staging", "thomas/run-links/pipe"));
  std::string log = log_of(done);
  EXPECT_NE(log.find("== skipped output file_link: symbolic link"), std::string::npos) << log;
  EXPECT_NE(log.find("== skipped output sub/dir_link: symbolic link"), std::string::npos) << log;
  EXPECT_NE(log.find("== skipped output pipe: not a regular file"), std::string::npos) << log;
  EXPECT_NE(log.find("== staged 2 output files"), std::string::npos) << log;
}

TEST_F(LocalEngineTest, AnOutputFolderReplacedByALinkStagesNothing) {
  std::string outside = (dir_.path() / "outside").string();
  fs::create_directories(outside);
  std::ofstream(outside + "/secret.txt") << "server-only";
  workflows_["swap"] = workflow(
      "swap",
      {{"s", {"/bin/sh", "-c", "rm -r \"$SCIGATE_OUTPUT_DIR\" && ln -s " + outside + " \"$SCIGATE_OUTPUT_DIR\""}}});
  make_engine();
  engine_->start();
  trigger("run-swap", "swap");
  auto done = wait_terminal("run-swap");
  EXPECT_EQ(done.state, RunState::kFailed);
  EXPECT_EQ(done.reason, "cannot stage outputs: the output folder was replaced by a symbolic link");
  EXPECT_FALSE(staging_->get("staging", "thomas/run-swap/secret.txt"));
}

TEST_F(LocalEngineTest, CancelEscalatesToSigkillAfterGrace) {
  // The step ignores SIGTERM, so only SIGKILL after the grace period ends it; its child
  // sleeps too, and must die with the group.
  workflows_["stubborn"] =
      workflow("stubborn", {{"s", {script("stubborn.sh", "trap '' TERM; sleep 60 & echo started; wait; sleep 60")}}});
  make_engine();
  engine_->start();
  auto run = trigger("run-cancel", "stubborn");
  auto running = wait_for("run-cancel", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(engine_->cancel(running));
  auto done = wait_terminal("run-cancel");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(done.state, RunState::kCanceled);
  EXPECT_EQ(done.reason, "canceled by user");
  EXPECT_GE(took, std::chrono::milliseconds(250));  // waited for the grace period
  EXPECT_EQ(engine_->cancel(done).error().code, ErrorCode::kConflict);
}

TEST_F(LocalEngineTest, MaxParallelRunsQueuesTheRestAndCancelOfQueuedRun) {
  workflows_["slow"] = workflow("slow", {{"s", {script("slow.sh", "sleep 0.6")}}});
  make_engine(1);
  engine_->start();
  trigger("p1", "slow");
  trigger("p2", "slow");
  trigger("p3", "slow");
  wait_for("p1", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  EXPECT_EQ(ledger_->get("p2")->state, RunState::kQueued);
  ASSERT_TRUE(engine_->cancel(ledger_->get("p3").value()));
  EXPECT_EQ(ledger_->get("p3")->state, RunState::kCanceled);
  EXPECT_EQ(wait_terminal("p1").state, RunState::kSuccess);
  auto p2 = wait_terminal("p2");
  EXPECT_EQ(p2.state, RunState::kSuccess);
  EXPECT_GE(p2.started_us, ledger_->get("p1")->ended_us);
}

TEST_F(LocalEngineTest, RestartMarksRunningFailedAndStartsQueued) {
  workflows_["quick"] = workflow("quick", {{"s", {script("quick.sh", "echo ok")}}});
  make_engine(1);
  // Not started: the runs stay queued, as if the server died before running them.
  trigger("q1", "quick");
  auto r = make_run_running();
  engine_.reset();
  make_engine(1);
  engine_->start();
  auto died = wait_terminal(r.run_id);
  EXPECT_EQ(died.state, RunState::kFailed);
  EXPECT_EQ(died.reason, "scigate restarted while the run was running");
  EXPECT_EQ(wait_terminal("q1").state, RunState::kSuccess);
}

// What a crash left: a supervisor whose step runs a daemon, from before the restart.
// Recovery asks it to stop (SIGTERM) and it takes everything below it down.
TEST_F(LocalEngineTest, RestartStopsTheSupervisorLeftByACrashAndItsDaemons) {
  workflows_["quick"] = workflow("quick", {{"s", {script("quick.sh", "echo ok")}}});
  auto r = make_run_running();
  fs::path run = dir_.path() / "runs/was-running";
  fs::create_directories(run / "output");
  std::string daemon = script("left.sh", std::string(kDaemons) + "\nsleep 300");
  pid_t supervisor = ::fork();
  if (supervisor == 0) {
    std::string out = "SCIGATE_OUTPUT_DIR=" + (run / "output").string();
    const char* env[] = {"SCIGATE_RUN_ID=was-running", out.c_str(), "PATH=/usr/bin:/bin", nullptr};
    std::string parent = std::to_string(::getppid());
    const char* argv[] = {SCIGATE_BINARY, kStepSupervisorCommand, parent.c_str(), "200", daemon.c_str(), nullptr};
    ::setpgid(0, 0);
    ::execve(argv[0], const_cast<char**>(argv), const_cast<char**>(env));
    ::_exit(127);
  }
  ASSERT_GT(supervisor, 0);
  std::ofstream(run / "step.pgid") << supervisor;
  pid_t setsid_pid = read_pid_file(run / "setsid.pid");
  pid_t double_pid = read_pid_file(run / "double.pid");
  ASSERT_FALSE(pid_gone(setsid_pid));
  make_engine(1);
  engine_->start();
  EXPECT_EQ(wait_terminal(r.run_id).reason, "scigate restarted while the run was running");
  int status = 0;
  ASSERT_EQ(::waitpid(supervisor, &status, 0), supervisor);  // it ended by itself, after tearing down
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_TRUE(pid_gone(setsid_pid));
  EXPECT_TRUE(pid_gone(double_pid));
}

// --- Several instances on one ledger ---

TEST_F(LocalEngineTest, InstancesShareOneQueue) {
  workflows_["slow"] = workflow("slow", {{"s", {script("slow.sh", "sleep 0.4")}}});
  make_engine(1);  // triggers only: not started
  auto a = make_instance("instance-a", "runs-a", 1);
  auto b = make_instance("instance-b", "runs-b", 1);
  a->start();
  b->start();
  for (int i = 0; i < 6; ++i) trigger("s" + std::to_string(i), "slow");
  std::set<std::string> owners;
  for (int i = 0; i < 6; ++i) {
    auto done = wait_terminal("s" + std::to_string(i));
    EXPECT_EQ(done.state, RunState::kSuccess) << done.reason;
    owners.insert(done.owner);
  }
  EXPECT_EQ(owners, (std::set<std::string>{"instance-a", "instance-b"}));
}

TEST_F(LocalEngineTest, ACancelOnAnotherInstanceStopsTheRunWhereItRuns) {
  workflows_["sleepy"] =
      workflow("sleepy", {{"s", {script("sleepy.sh", "echo $$ > \"$SCIGATE_OUTPUT_DIR/pid\"; sleep 60")}}});
  make_engine(1);
  auto a = make_instance("instance-a", "runs-a", 1);
  auto b = make_instance("instance-b", "runs-b", 1);  // not started: it only takes the cancel
  a->start();
  trigger("far", "sleepy");
  auto running = wait_for("far", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  pid_t step = read_pid_file(dir_.path() / "runs-a/far/output/pid");
  auto asked = b->cancel(running);
  ASSERT_TRUE(asked) << asked.error().internal;
  EXPECT_EQ(asked->state, RunState::kRunning);  // instance-a stops it
  auto done = wait_terminal("far");
  EXPECT_EQ(done.state, RunState::kCanceled);
  EXPECT_EQ(done.reason, "canceled by user");
  EXPECT_TRUE(pid_gone(step));
}

TEST_F(LocalEngineTest, LogsOfARunAreServedByAnyInstance) {
  workflows_["talk"] = workflow("talk", {{"s", {script("talk.sh", "for i in 1 2 3; do echo line $i; done")}}});
  make_engine(1);
  auto a = make_instance("instance-a", "runs-a", 1);
  auto b = make_instance("instance-b", "runs-b", 1);
  a->start();
  auto run = wait_terminal(trigger("talk1", "talk").run_id);
  ASSERT_EQ(run.state, RunState::kSuccess) << run.reason;
  std::string here = read_all(*a->logs(run).value());
  EXPECT_NE(here.find("line 3"), std::string::npos) << here;
  EXPECT_EQ(read_all(*b->logs(run).value()), here);  // from the ledger: runs-b has no log
  auto slice = b->read_log(run, 3, 10);
  ASSERT_TRUE(slice);
  EXPECT_EQ(slice->bytes, here.substr(3, 10));
  EXPECT_EQ(slice->size, here.size());
}

// A run whose owner stopped renewing its claim: another instance ends it (and requeues
// what the owner had claimed but not started).
TEST_F(LocalEngineTest, AnotherInstanceEndsTheRunsOfAnInstanceThatStoppedRenewing) {
  workflows_["quick"] = workflow("quick", {{"s", {script("quick.sh", "echo ok")}}});
  make_engine(1);
  trigger("orphan", "quick");
  trigger("claimed", "quick");
  auto now = to_unix_micros(std::chrono::system_clock::now());
  RunRecord orphan = ledger_->claim_next("gone-host:1:1", now + 200'000).value().value();
  orphan.state = RunState::kRunning;
  ASSERT_TRUE(ledger_->update(orphan));
  ASSERT_TRUE(ledger_->claim_next("gone-host:1:1", now + 200'000).value());
  auto b = make_instance("instance-b", "runs-b", 1);
  b->start();
  auto failed = wait_terminal("orphan");
  EXPECT_EQ(failed.state, RunState::kFailed);
  EXPECT_NE(failed.reason.find("gone-host:1:1"), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("lease expired"), std::string::npos) << failed.reason;
  auto picked = wait_terminal("claimed");
  EXPECT_EQ(picked.state, RunState::kSuccess) << picked.reason;
  EXPECT_EQ(picked.owner, "instance-b");
}

// An instance that stalled past its lease finds its run ended by another one: it stops
// the step and records nothing over that end.
TEST_F(LocalEngineTest, AnInstanceThatLostItsClaimStopsTheRunAndWritesNothing) {
  workflows_["sleepy"] =
      workflow("sleepy", {{"s", {script("sleepy.sh", "echo $$ > \"$SCIGATE_OUTPUT_DIR/pid\"; sleep 60")}}});
  make_engine(1);
  auto a = make_instance("instance-a", "runs-a", 1);
  a->start();
  trigger("stalled", "sleepy");
  wait_for("stalled", [](const RunRecord& r) { return r.state == RunState::kRunning; });
  pid_t step = read_pid_file(dir_.path() / "runs-a/stalled/output/pid");
  // As another instance would once the lease had expired.
  auto later = to_unix_micros(std::chrono::system_clock::now() + std::chrono::minutes(10));
  ASSERT_EQ(ledger_->expire_leases(later).value().size(), 1u);
  for (int i = 0; i < 200 && !pid_gone(step); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(pid_gone(step));
  a->stop();
  auto after = ledger_->get("stalled").value();
  EXPECT_EQ(after.state, RunState::kFailed);
  EXPECT_NE(after.reason.find("lease expired"), std::string::npos) << after.reason;
}

TEST(InstanceIdTest, NamesThisProcessAndTellsDeadOnesOfThisHost) {
  std::string me = this_instance_id();
  EXPECT_FALSE(instance_gone(me));
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  std::string host = me.substr(0, me.find(':'));
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(instance_gone(host + ":" + std::to_string(child) + ":12345"));
  // This pid, but not this process (a pid the kernel gave again): gone as well.
  EXPECT_TRUE(instance_gone(host + ":" + std::to_string(::getpid()) + ":1"));
  EXPECT_FALSE(instance_gone("another-host:1:1"));
  EXPECT_FALSE(instance_gone("instance-a"));
}

}  // namespace
}  // namespace scigate
