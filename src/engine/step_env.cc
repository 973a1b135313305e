#include "engine/step_env.h"

#include <algorithm>
#include <map>

extern char** environ;

namespace scigate {

namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

bool allow_listed(const std::string& name) {
  static const char* const kNames[] = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH"};
  return name.rfind("LC_", 0) == 0 ||
         std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return name == n; });
}

// NAME -> value of a NAME=value list; entries without '=' are not variables.
std::map<std::string, std::string> by_name(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& entry : env) {
    auto eq = entry.find('=');
    if (eq != std::string::npos && eq > 0) out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

}  // namespace

std::vector<std::string> step_base_environment(const std::vector<std::string>& server_env,
                                               const std::vector<StepEnvVar>& workflow_env) {
  auto server = by_name(server_env);
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : server) {
    if (allow_listed(name)) out[name] = value;
  }
  for (const auto& var : workflow_env) {
    if (var.value) {
      out[var.name] = *var.value;
    } else if (auto it = server.find(var.name); it != server.end()) {
      out[var.name] = it->second;
    }
  }
  out.emplace("PATH", kDefaultPath);
  std::vector<std::string> list;
  for (const auto& [name, value] : out) list.push_back(name + "=" + value);
  return list;
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0)
      return entry.substr(name.size() + 1);
  }
  return "";
}

std::vector<std::string> current_environment() {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

}  // namespace scigate
