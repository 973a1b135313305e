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
#include "http/pipeline.h"
#include "http/router.h"
#include "http/server_options.h"

namespace scigate {

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
