// The process tree as /proc shows it, for tearing down everything a workflow step
// started. /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN, which many kernels
// lack, so these read every /proc/<pid>/stat once instead (a few hundred small reads).
//
// A pid read here may end and, in theory, be reused before the caller signals it; pkill
// has the same window. Callers only signal pids they find below their own process.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>
#include <vector>

namespace scigate {

// The parent pid in the text of /proc/<pid>/stat ("pid (comm) state ppid ..."). The
// command name may hold spaces and parentheses, so fields are read after its last ')'.
std::optional<pid_t> parent_pid_from_stat(std::string_view stat);

// Processes whose parent is `parent`, zombies included.
std::vector<pid_t> children_of(pid_t parent);

// Every process below `root` (children, grandchildren, ...), parents before children.
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace scigate
