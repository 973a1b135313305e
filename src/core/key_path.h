// Normalisation of caller-supplied paths (output prefixes, data-selection paths, file keys).
//
// Every path a caller gives is untrusted. parse_relative_key turns the still
// percent-encoded tail of a URL into a clean relative key, or refuses it. Refused: "..",
// "." (also when encoded, e.g. "%2e%2e"), encoded slashes ("%2F"), backslashes, NUL and
// other control bytes, empty segments ("a//b", a leading "/"), invalid percent escapes,
// bytes that are not UTF-8.
// A clean key can only be joined under a root, never escape it.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace scigate {

struct RelativeKey {
  std::string path;        // decoded segments joined by '/', no leading or trailing '/'
  bool is_folder = false;  // the caller's path ended with '/' (or was empty)
};

Result<RelativeKey> parse_relative_key(std::string_view encoded);

// Percent-decodes `in` (no '+' handling: that is query-string only). nullopt-like
// failure is reported as false.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);
// Encodes everything except unreserved characters and, when keep_slash, '/'.
std::string percent_encode(std::string_view in, bool keep_slash = true);

// Joins two key fragments with exactly one '/' between non-empty parts.
std::string join_key(std::string_view a, std::string_view b);

}  // namespace scigate
