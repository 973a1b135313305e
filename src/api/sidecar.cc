#include "api/sidecar.h"

#include "core/ini.h"
#include "core/utf8.h"

namespace scigate::api {

Status check_property(const std::string& key, const std::string& value) {
  std::string_view k = trim_blanks(key);
  if (k.empty()) return Error::bad_request("property names may not be empty");
  if (key.size() > 1024 || value.size() > 1024)
    return Error::bad_request("property '" + key.substr(0, 64) + "' is too long");
  if (k.front() == '[' || k.front() == '#' || k.front() == ';' || k.size() != key.size()) {
    return Error::bad_request("property name '" + key + "' is not allowed");
  }
  for (char c : key) {
    if (c == '=' || c == ':' || c == '\n' || c == '\r' || c == '\0') {
      return Error::bad_request("property name '" + key + "' may not contain '=', ':' or line breaks");
    }
  }
  for (char c : value) {
    if (c == '\n' || c == '\r' || c == '\0')
      return Error::bad_request("property '" + key + "' value may not contain line breaks");
  }
  return ok_status();
}

std::string write_sidecar(const std::string& section, const std::map<std::string, std::string>& properties) {
  std::string out = "[" + section + "]\n";
  for (const auto& [k, v] : properties) out += k + " = " + v + "\n";
  out += "\n";
  return out;
}

std::map<std::string, std::string> read_sidecar(std::string_view text) {
  std::map<std::string, std::string> out;
  // A step may write any bytes into a .cfg; what reaches a JSON listing must be UTF-8.
  for (auto& [section, values] : parse_ini(text)) {
    for (auto& [k, v] : values) out.emplace(repair_utf8(k), repair_utf8(v));
  }
  return out;
}

}  // namespace scigate::api
