// The request and response types handlers see. No sockets, no Beast: handlers are pure
// functions of (RequestContext, Request) and are unit-tested as such.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_source.h"
#include "core/error.h"
#include "core/time_util.h"

namespace scigate {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // still percent-encoded, no query
  // Decoded pairs in request order; a name may repeat (`bidx=1&bidx=2`).
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::map<std::string, std::string> path_params;  // decoded {name} segments
  std::string tail;                                // the encoded rest matched by {name...}

  // Empty when absent. `name` must be lower-case.
  std::string header(std::string_view name) const;
  // The last value given for `name`, empty when absent.
  std::string query_param(std::string_view name) const;
  // Every value given for `name`, in order.
  std::vector<std::string> query_params(std::string_view name) const;
  bool has_query_param(std::string_view name) const;
};

struct RequestContext {
  std::string request_id;
  std::string username;  // empty for anonymous routes
  SystemTime now;
};

// A body produced over time rather than known up front (Server-Sent Events). The server
// sends it with chunked transfer encoding, then closes the connection. It calls poll() on
// the worker pool (poll may block on a ledger or an engine), first at once and then every
// interval(); between calls the stream waits on a timer and holds no thread. The stream
// ends when poll() says done, when the client goes away (noticed at once, not at the next
// write), when the server stops, or after ServerOptions::event_stream_lifetime.
class PushSource {
 public:
  struct Chunk {
    std::string bytes;   // to send now; may be empty
    bool done = false;   // nothing follows: the body ends after `bytes`
    bool again = false;  // more is ready: poll again without waiting
  };
  virtual ~PushSource() = default;
  // Never called concurrently with itself.
  virtual Chunk poll() = 0;
  virtual std::chrono::milliseconds interval() const = 0;
  // Sent when nothing else was sent for ServerOptions::event_stream_keepalive, so that
  // proxies keep the connection open. Empty: nothing.
  virtual std::string keepalive() const { return {}; }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<ByteSource> stream;  // when set, the body is read from it while it is sent
  std::shared_ptr<PushSource> push;    // when set, the body is pushed as it is produced

  static Response json(int status, const boost::json::value& value);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response streamed(int status, std::shared_ptr<ByteSource> source, std::string content_type);
  // {"error": {"code", "message", "request_id"}} with the status of error.code.
  static Response error(const Error& error, const std::string& request_id);
  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Splits "a=1&b=x%20y" into decoded pairs, in order. Invalid escapes are kept verbatim.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

// A Range header (RFC 9110 §14.2) against a body of `size` bytes. Only single byte
// ranges are served; anything else (several ranges, other units, bad syntax) is ignored
// and the whole body is sent, as the RFC allows.
struct RangeRequest {
  enum Kind { kWhole, kPartial, kUnsatisfiable } kind = kWhole;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};
RangeRequest parse_range(std::string_view header, uint64_t size);

}  // namespace scigate
