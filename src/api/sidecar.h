// `.cfg` metadata sidecars, written as the seed writes them with Python's configparser:
// one INI section named after the data file, "key = value" lines, a blank line after.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace scigate::api {

inline constexpr std::string_view kSidecarSuffix = ".cfg";

// 400 when a key or value cannot be written unambiguously (newlines, '=' or ':' in a
// key, a key starting with '[', '#' or ';', empty key, over 1 KiB).
Status check_property(const std::string& key, const std::string& value);
std::string write_sidecar(const std::string& section, const std::map<std::string, std::string>& properties);
// Reads "key = value" / "key: value" lines of every section; comments and junk ignored.
std::map<std::string, std::string> read_sidecar(std::string_view text);

}  // namespace scigate::api
