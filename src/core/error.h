// Error values passed across component boundaries, and Result<T>.
// An Error carries two messages: `internal` for the log (may name hosts, files, upstream
// bodies) and `client` for the HTTP response (safe to show a scientist). The mapping to
// an HTTP status lives in exactly one place: http_status(ErrorCode).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace scigate {

enum class ErrorCode {
  kBadRequest,           // 400: the caller sent something invalid
  kUnauthenticated,      // 401: no token, or a token that does not verify
  kForbidden,            // 403: identity known, not allowed
  kNotFound,             // 404
  kMethodNotAllowed,     // 405
  kConflict,             // 409
  kPayloadTooLarge,      // 413
  kRangeNotSatisfiable,  // 416
  kHeadersTooLarge,      // 431
  kUnavailable,          // 503: overloaded, or a dependency is temporarily unusable
  kUpstreamFailed,       // 502: a backend answered wrongly
  kUpstreamTimeout,      // 504
  kInternal,             // 500: a bug or an unexpected local failure
  kNotImplemented,       // 501: a request method scigate does not know
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string internal;  // for logs only
  std::string client;    // for the response body

  static Error bad_request(std::string msg) { return {ErrorCode::kBadRequest, msg, msg}; }
  static Error not_found(std::string msg) { return {ErrorCode::kNotFound, msg, msg}; }
  static Error forbidden(std::string msg) { return {ErrorCode::kForbidden, msg, msg}; }
  static Error conflict(std::string msg) { return {ErrorCode::kConflict, msg, msg}; }
  static Error unauthenticated(std::string msg) { return {ErrorCode::kUnauthenticated, msg, msg}; }
  // Internal failures never show their detail to the client.
  static Error internal_error(std::string detail) {
    return {ErrorCode::kInternal, std::move(detail), "internal error"};
  }
};

int http_status(ErrorCode code);
// Stable machine-readable name used in the JSON error body, e.g. "bad_request".
const char* error_code_name(ErrorCode code);

// A value or an Error. Deliberately small: has_value / value / error, nothing clever.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace scigate
