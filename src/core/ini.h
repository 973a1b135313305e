// Reading INI text as Python's configparser writes it ("[section]", "key = value" or
// "key: value", '#'/';' comments). Used for .cfg sidecars and AWS shared credentials.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace scigate {

// Strips spaces, tabs and a trailing '\r'.
std::string_view trim_blanks(std::string_view s);

using IniSection = std::map<std::string, std::string>;
// Keys before any section header go to section "". Malformed lines are skipped.
std::map<std::string, IniSection> parse_ini(std::string_view text);

}  // namespace scigate
