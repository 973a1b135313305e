// The KEY=VALUE file a CTest fixture writes about the peer it started (endpoint, keys,
// ports), named by an environment variable. Empty when the variable or file is missing,
// so the test's first assertion says which peer is absent.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

namespace scigate {

inline std::map<std::string, std::string> peer_env(const char* variable) {
  std::map<std::string, std::string> env;
  const char* path = std::getenv(variable);
  if (!path) return env;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

}  // namespace scigate
