#include "core/ini.h"

namespace scigate {

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::map<std::string, IniSection> parse_ini(std::string_view text) {
  std::map<std::string, IniSection> out;
  std::string section;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim_blanks(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() == ']') section = std::string(trim_blanks(line.substr(1, line.size() - 2)));
      continue;
    }
    size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) continue;
    std::string_view k = trim_blanks(line.substr(0, sep));
    if (!k.empty()) out[section][std::string(k)] = std::string(trim_blanks(line.substr(sep + 1)));
  }
  return out;
}

}  // namespace scigate
