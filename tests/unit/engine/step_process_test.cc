#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "engine/process_tree.h"
#include "engine/step_env.h"
#include "engine/step_supervisor.h"

namespace scigate {
namespace {

TEST(ProcessTree, ParentPidFromStatSurvivesOddCommandNames) {
  EXPECT_EQ(parent_pid_from_stat("1234 (bash) S 99 1234 1234 0 -1"), 99);
  EXPECT_EQ(parent_pid_from_stat("1234 (a) b) (c) R 7 1 1 0"), 7);
  EXPECT_EQ(parent_pid_from_stat("2 (kthreadd) S 0 0 0 0"), 0);
  EXPECT_FALSE(parent_pid_from_stat("garbage"));
  EXPECT_FALSE(parent_pid_from_stat("1 (x)"));
}

TEST(ProcessTree, FindsChildrenAndGrandchildren) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::close(ready[1]);
      ::pause();
      ::_exit(0);
    }
    (void)!::write(ready[1], &grandchild, sizeof grandchild);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  pid_t grandchild = 0;
  ASSERT_EQ(::read(ready[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
  auto kids = children_of(::getpid());
  EXPECT_NE(std::find(kids.begin(), kids.end(), child), kids.end());
  auto all = descendants_of(::getpid());
  auto at_child = std::find(all.begin(), all.end(), child);
  auto at_grandchild = std::find(all.begin(), all.end(), grandchild);
  EXPECT_NE(at_child, all.end());
  EXPECT_NE(at_grandchild, all.end());
  EXPECT_LT(at_child, at_grandchild);  // parents first
  ::kill(grandchild, SIGKILL);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(StepEnvironment, AllowListWorkflowEntriesAndNothingElse) {
  std::vector<std::string> server{
      "PATH=/opt/bin:/usr/bin", "HOME=/home/gw",           "LANG=C.UTF-8",      "LC_ALL=C",          "TZ=UTC",
      "JWT_SECRET=s3cr3t",      "AWS_SECRET_ACCESS_KEY=k", "SCIGATE_CONFIG=/x", "OMP_NUM_THREADS=4", "no-equals-sign"};
  auto env = step_base_environment(server, {{"OMP_NUM_THREADS", std::nullopt},
                                            {"GDAL_CACHEMAX", "512"},
                                            {"NOT_SET_ANYWHERE", std::nullopt},
                                            {"HOME", "/scratch"}});
  std::vector<std::string> expected{"GDAL_CACHEMAX=512", "HOME=/scratch",          "LANG=C.UTF-8", "LC_ALL=C",
                                    "OMP_NUM_THREADS=4", "PATH=/opt/bin:/usr/bin", "TZ=UTC"};
  EXPECT_EQ(env, expected);
  EXPECT_EQ(env_value(env, "PATH"), "/opt/bin:/usr/bin");
  EXPECT_EQ(env_value(env, "PAT"), "");
  EXPECT_EQ(step_base_environment({}, {}), std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin"});
}

TEST(StepReport, DescribesEachOutcome) {
  EXPECT_EQ(describe_step_report({StepReport::kExited, 3}), "exited with status 3");
  EXPECT_EQ(describe_step_report({StepReport::kSignaled, 9}), "was killed by signal 9 (Killed)");
  EXPECT_EQ(describe_step_report({StepReport::kNotStarted, E2BIG}), "could not start: Argument list too long (E2BIG)");
  EXPECT_EQ(describe_step_report({StepReport::kNotStarted, ENOENT}),
            "could not start: No such file or directory (ENOENT)");
}

}  // namespace
}  // namespace scigate
