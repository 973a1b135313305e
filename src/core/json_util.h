// Small Boost.JSON helpers shared by every component.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace scigate {

// Parses `text` as JSON; a 400 with the parser's reason on failure. Depth is bounded so
// hostile input cannot exhaust the stack.
Result<boost::json::value> parse_json(std::string_view text);

// Appends `text` as a JSON string literal (quotes included): escaped, and with bytes that
// are not UTF-8 replaced, so the result is always valid JSON. For hot paths that build
// JSON by hand (the access log).
void append_json_string(std::string& out, std::string_view text);

// The string at obj[key], or `fallback` when absent or not a string.
std::string string_or(const boost::json::object& obj, std::string_view key, std::string fallback = {});

}  // namespace scigate
