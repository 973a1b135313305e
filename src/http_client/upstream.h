// UpstreamClient: outgoing HTTP(S) over libcurl, for S3, Airflow, STS, Earthdata and the
// AWS metadata services. A library of its own (scigate_http_client), apart from the
// server in http/, so that storage, credentials and engines do not link Beast.
// Keeps a pool of curl handles, each with its live (keep-alive) connection, so
// consecutive calls reuse connections instead of connecting again; N threads calling at
// once hold N handles. Bodies are sent from memory or streamed from a byte range of a
// file, and responses written to a file, so large transfers never sit in memory.
// Blocking: call it from worker threads only. Thread-safe.
//
// Failure (transport only; an HTTP error status is a successful call): kUnavailable when
// the peer cannot be reached (refused, DNS), kUpstreamTimeout when it is too slow,
// kUpstreamFailed otherwise. `internal` names the URL's host and curl's reason, never
// headers (they may carry credentials).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace scigate {

using UpstreamHeaders = std::vector<std::pair<std::string, std::string>>;

// A request body read from a file in small chunks as it is sent: `length` bytes from
// `offset`.
struct FileRange {
  std::filesystem::path path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct UpstreamRequest {
  std::string method = "GET";
  std::string url;  // complete and already percent-encoded
  UpstreamHeaders headers;
  std::string body;
  // When set, a 2xx response body is written here instead of into `body`.
  std::optional<std::filesystem::path> response_file;
  std::chrono::milliseconds timeout{30'000};  // whole exchange; 0 = no limit (stall limit still applies)
};

struct UpstreamResponse {
  int status = 0;
  UpstreamHeaders headers;  // names lower-case
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
  // name=value of each Set-Cookie header (attributes dropped), in order.
  std::vector<std::pair<std::string, std::string>> cookies() const;
};

struct UpstreamOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // A transfer slower than 1 KiB/s for this long is aborted (large objects have no
  // fixed total timeout, but they may not hang).
  std::chrono::seconds stall_timeout{30};
  size_t max_idle_handles = 32;
};

// "scheme://host[:port]/path?q" → origin "scheme://host[:port]", authority "host[:port]".
struct UrlOrigin {
  std::string origin;
  std::string authority;
};
UrlOrigin url_origin(std::string_view url);

class UpstreamClient {
 public:
  explicit UpstreamClient(UpstreamOptions options = {});
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  Result<UpstreamResponse> send(const UpstreamRequest& request) const;
  // The same with `body` as the request body (request.body is ignored). Fails, never
  // sending a short body, when the file holds fewer bytes than the range.
  Result<UpstreamResponse> send(const UpstreamRequest& request, const FileRange& body) const;

 private:
  Result<UpstreamResponse> perform(const UpstreamRequest& request, const FileRange* body) const;
  void* acquire() const;
  void release(void* handle) const;

  UpstreamOptions options_;
  mutable std::mutex mu_;
  mutable std::vector<void*> idle_;  // CURL* handles with their connection caches
};

}  // namespace scigate
