// The server's options: what server: in the config says about listening, limits and
// timeouts. Header-only and free of Beast, so that the config (catalog/config.h's
// ServerConfig extends it) describes the server without linking it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
  size_t worker_queue = 1024;       // requests waiting for a worker beyond this get 503
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
  // no lock shared between I/O threads. -1 = no access log. Set by the app, not the config.
  int access_log_fd = -1;
};

}  // namespace scigate
