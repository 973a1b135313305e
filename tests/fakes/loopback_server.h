// An in-process HTTP peer for unit tests: scigate's own server on a free loopback port,
// answering with the routes given to router() before start(), on a thread of its own.
// Tests of clients (credential endpoints, STS, metadata services) use it instead of a
// separate process.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "http/server.h"

namespace scigate {

class LoopbackServer {
 public:
  LoopbackServer() = default;
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  ~LoopbackServer() {
    if (!thread_.joinable()) return;
    server_->request_stop();
    thread_.join();
  }

  Router& router() { return router_; }

  // Listens and serves; returns the base URL, "http://127.0.0.1:{port}".
  std::string start() {
    ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<Server>(
        options, router_, [](std::string_view) -> Result<std::string> { return std::string(); }, metrics_);
    EXPECT_TRUE(server_->listen());
    thread_ = std::thread([this] { server_->run(); });
    return "http://127.0.0.1:" + std::to_string(server_->port());
  }

 private:
  Router router_;
  Metrics metrics_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace scigate
