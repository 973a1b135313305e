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

// `value` as JSON text, the one serializer for what scigate writes. It differs from
// boost::json::serialize in numbers and strings: a double prints as the shortest text
// that reads back to the same value, in plain notation where that is as short
// (-97.0, 0.0003, 1e+300; Boost 1.74 prints -9.7E1 and 3E-4, valid JSON that people and
// naive clients misread), a non-finite double as null (JSON has no NaN or infinity),
// and strings are written by append_json_string (invalid UTF-8 repaired).
std::string to_json_text(const boost::json::value& value);

// The string at obj[key], or `fallback` when absent or not a string.
std::string string_or(const boost::json::object& obj, std::string_view key, std::string fallback = {});

}  // namespace scigate
