// Reading generated pages in tests: every first capture group of a pattern.
#pragma once

#include <regex>
#include <string>
#include <vector>

namespace scigate::api {

// The first capture group of every match of `pattern` in `html`, in order.
inline std::vector<std::string> all_captures(const std::string& html, const std::string& pattern) {
  std::vector<std::string> out;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace scigate::api
