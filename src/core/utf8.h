// UTF-8 validity. JSON must be valid UTF-8, and Boost.JSON's serializer copies string
// bytes as they are, so bytes that come from outside (URL paths, file names, sidecars
// written by workflow steps) are checked or repaired before they reach a JSON answer.
#pragma once

#include <string>
#include <string_view>

namespace scigate {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF).
bool valid_utf8(std::string_view s);

// The length of `s` without a last sequence that is cut short but could still be
// completed by the bytes that follow (at most 3 bytes are held back): for text that
// arrives in pieces, so that a character split between two pieces is not repaired away.
size_t utf8_complete_prefix(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view s);

}  // namespace scigate
