#include "engine/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <set>
#include <string>

namespace scigate {

namespace {

std::optional<pid_t> parse_pid(std::string_view text) {
  pid_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

std::optional<pid_t> read_parent(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parent_pid_from_stat(std::string_view(buf, static_cast<size_t>(n)));
}

// pid -> its children, for every process visible in /proc.
std::multimap<pid_t, pid_t> children_by_parent() {
  std::multimap<pid_t, pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = ::readdir(proc)) {
    auto pid = parse_pid(e->d_name);
    if (!pid) continue;
    if (auto parent = read_parent(*pid)) out.emplace(*parent, *pid);
  }
  ::closedir(proc);
  return out;
}

}  // namespace

std::optional<pid_t> parent_pid_from_stat(std::string_view stat) {
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);  // " S 1234 ..."
  auto state = rest.find_first_not_of(' ');
  if (state == std::string_view::npos) return std::nullopt;
  auto start = rest.find_first_not_of(' ', rest.find(' ', state));
  if (start == std::string_view::npos) return std::nullopt;
  auto end = rest.find(' ', start);
  std::string_view field = rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  if (field == "0") return 0;  // the kernel's own threads and init
  return parse_pid(field);
}

std::vector<pid_t> children_of(pid_t parent) {
  auto all = children_by_parent();
  std::vector<pid_t> out;
  for (auto [it, end] = all.equal_range(parent); it != end; ++it) out.push_back(it->second);
  return out;
}

std::vector<pid_t> descendants_of(pid_t root) {
  auto all = children_by_parent();
  std::vector<pid_t> out;
  std::set<pid_t> seen{root};  // reads are not atomic: a reused pid must not make a loop
  std::vector<pid_t> pending{root};
  while (!pending.empty()) {
    pid_t p = pending.back();
    pending.pop_back();
    for (auto [it, end] = all.equal_range(p); it != end; ++it) {
      if (!seen.insert(it->second).second) continue;
      out.push_back(it->second);
      pending.push_back(it->second);
    }
  }
  return out;
}

}  // namespace scigate
