// Secrets are only ever referenced from config ("env:NAME", "file:PATH", and
// "aws-secretsmanager:NAME_OR_ARN[#json_key]" where a resolver for it is given), never inline.
// A Secret holds the resolved value; it has no operator<< and its reference (not its
// value) is what appears in messages. The buffer is wiped when the Secret dies.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
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

// True when `text` has the form of a secret reference (env:, file: or aws-secretsmanager:).
bool is_secret_reference(const std::string& text);

// Resolves references. env: and file: always; further schemes (aws-secretsmanager:) only
// when whoever loads the config hands them in, so that catalog never links network code.
struct SecretResolver {
  // What follows "scheme:" → the value. Errors name the reference, never a value.
  using Scheme = std::function<Result<std::string>(const std::string& rest)>;
  std::map<std::string, Scheme> schemes;
  // Sees every value resolved (a fingerprint of the config: was anything rotated?).
  std::function<void(const std::string& reference, const std::string& value)> observe;

  // "env:NAME" or "file:PATH" (relative to base_dir; a trailing newline of a file is
  // dropped), or one of `schemes`. Fails when the variable is unset/empty, the file cannot
  // be read, or the scheme is unknown here.
  Result<Secret> resolve(const std::string& reference, const std::filesystem::path& base_dir) const;
};

// env: and file: only.
Result<Secret> resolve_secret(const std::string& reference, const std::filesystem::path& base_dir);

// The key in `path`, or a new random one written there (mode 0600) when the file does
// not exist yet, so that what is signed with it (presigned links) outlives a restart.
// Safe when several processes start at once: only one file is ever created.
Result<Secret> load_or_create_key_file(const std::filesystem::path& path);

}  // namespace scigate
