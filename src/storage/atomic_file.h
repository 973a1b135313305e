// Writing a file so that it appears whole or not at all: the local store's objects and
// every store's get_to_file use it, so a reader (a workflow step, a listing) never sees a
// half-written file, and a failed write leaves nothing behind.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "core/error.h"

namespace scigate {

// Name prefix of in-progress writes; stores never list them.
inline constexpr std::string_view kTempPrefix = ".scigate-tmp-";

// Creates target's parent folders, lets `write` fill a temporary sibling named
// kTempPrefix + random, and renames it over `target` only when `write` succeeded.
// Failure: write's error (the temporary file removed), or kInternal when a folder cannot
// be made or the rename fails.
Status write_file_atomically(const std::filesystem::path& target,
                             const std::function<Status(const std::filesystem::path& temporary)>& write);

}  // namespace scigate
