// Secrets are only ever referenced from config ("env:NAME", "file:PATH"), never inline.
// A Secret holds the resolved value; it has no operator<< and its reference (not its
// value) is what appears in messages. The buffer is wiped when the Secret dies.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"

namespace scigate {

class Secret {
 public:
  Secret() = default;
  Secret(std::string reference, std::string value) : ref_(std::move(reference)), value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) = default;
  Secret& operator=(Secret&&) = default;
  ~Secret();

  bool empty() const { return value_.empty(); }
  const std::string& value() const { return value_; }
  // "env:SCIGATE_JWT_SECRET": safe to print.
  const std::string& reference() const { return ref_; }

 private:
  std::string ref_;
  std::string value_;
};

// True when `text` has the form of a secret reference.
bool is_secret_reference(const std::string& text);
// Resolves "env:NAME" or "file:PATH" (relative to base_dir). A trailing newline of a file
// is dropped. Fails when the variable is unset/empty or the file cannot be read.
Result<Secret> resolve_secret(const std::string& reference, const std::filesystem::path& base_dir);

// The key in `path`, or a new random one written there (mode 0600) when the file does
// not exist yet, so that what is signed with it (presigned links) outlives a restart.
// Safe when several processes start at once: only one file is ever created.
Result<Secret> load_or_create_key_file(const std::filesystem::path& path);

}  // namespace scigate
