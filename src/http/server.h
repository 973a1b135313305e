// The HTTP server: Beast + Asio C++20 coroutines on a few I/O threads, handlers that may
// block on a bounded worker pool (full → 503 + Retry-After), header/body limits,
// read/idle timeouts, keep-alive, CORS, one JSON access-log line per request (request
// id, route, status, latency, user; never the query string or headers), metrics, and
// graceful shutdown on SIGTERM/SIGINT (stop accepting, finish in-flight, exit).
//
// Hostile input: the header is read and judged before the body. Unknown methods (501),
// a Transfer-Encoding other than exactly "chunked" and repeated Authorization headers
// (400) are refused and the connection closed; routing and authentication happen before
// the body is read, so `Expect: 100-continue` gets its 100 only when the request would be
// served. Connections are capped (max_connections, then 503), accept() backs off when
// the process is out of descriptors, large bodies are streamed (Response::stream), and
// HEAD is answered for every GET route.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/metrics.h"
#include "http/router.h"

namespace scigate {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port (see Server::port())
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  int io_threads = 2;
  int worker_threads = 8;
  size_t worker_queue = 1024;
  size_t max_connections = 10'000;  // beyond: 503 and close at once
  // In-memory response bodies (streamed ones excluded) that slow readers may hold in
  // total; a larger answer beyond it is a 503.
  size_t max_buffered_response_bytes = 256 << 20;
  // Pushed bodies (Response::push) open at once; one more gets a 503. They hold no thread
  // while they wait, only a connection and a timer.
  size_t max_event_streams = 256;
  std::chrono::milliseconds event_stream_lifetime{300'000};  // then the body ends (clients resume)
  std::chrono::milliseconds event_stream_keepalive{15'000};  // PushSource::keepalive() after this silence
  std::vector<std::string> cors_allowed_origins;             // "*" allows any
  // The access log: one JSON line per request, each written whole by one write(2) with
  // no lock shared between I/O threads. -1 = no access log.
  int access_log_fd = -1;
};

// Returns the username for an Authorization header value, or the 401 to send.
using Authenticator = std::function<Result<std::string>(std::string_view authorization)>;

class Server {
 public:
  Server(ServerOptions options, const Router& router, Authenticator authenticator, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Failure: address in use, bad host.
  Status listen();
  uint16_t port() const;
  // Serves until SIGTERM/SIGINT or request_stop(); then drains and returns.
  void run();
  // Thread-safe.
  void request_stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scigate
