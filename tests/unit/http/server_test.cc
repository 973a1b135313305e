// The server over real loopback sockets: bounded worker queue, graceful drain, limits,
// keep-alive, handler exceptions.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace scigate {
namespace {

// Sends `raw` on a new connection and returns everything the server sends back until it
// closes the connection (requests here say Connection: close).
std::string send_and_read(uint16_t port, const std::string& raw) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  size_t off = 0;
  while (off < raw.size()) {
    ssize_t n = ::send(fd, raw.data() + off, raw.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string get(uint16_t port, const std::string& path, const std::string& headers = "") {
  return send_and_read(port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers + "\r\n");
}

int status_of(const std::string& response) { return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0; }

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts) {
    auto slow = [](const RequestContext&, const Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return Response::text(200, "slow done");
    };
    router_.add({"GET", "/slow", false, true, slow});
    router_.add({"GET", "/fast", false, false,
                 [](const RequestContext&, const Request&) { return Response::text(200, "fast"); }});
    router_.add({"POST", "/echo", false, true,
                 [](const RequestContext&, const Request& r) { return Response::text(200, r.body); }});
    router_.add({"GET", "/throw", false, true, [](const RequestContext&, const Request&) -> Response {
                   throw std::runtime_error("internal detail /etc/secret");
                 }});
    router_.add({"GET", "/private", true, true,
                 [](const RequestContext& c, const Request&) { return Response::text(200, c.username); }});
    opts.host = "127.0.0.1";
    opts.port = 0;
    auto authn = [](std::string_view a) -> Result<std::string> {
      if (a == "Bearer good") return std::string("thomas");
      return Error::unauthenticated("bad token");
    };
    server_ = std::make_unique<Server>(opts, router_, authn, metrics_);
    ASSERT_TRUE(server_->listen());
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->request_stop();
    if (thread_.joinable()) thread_.join();
  }

  Router router_;
  Metrics metrics_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, FullWorkerQueueAnswers503WithRetryAfter) {
  ServerOptions o;
  o.worker_threads = 1;
  o.worker_queue = 1;
  start(o);
  std::vector<std::future<std::string>> replies;
  for (int i = 0; i < 6; ++i) replies.push_back(std::async(std::launch::async, [&] { return get(port_, "/slow"); }));
  int ok = 0, busy = 0;
  for (auto& f : replies) {
    std::string r = f.get();
    if (status_of(r) == 200) ++ok;
    if (status_of(r) == 503) {
      ++busy;
      EXPECT_NE(r.find("Retry-After: 1"), std::string::npos) << r;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(ok + busy, 6);
  EXPECT_EQ(status_of(get(port_, "/fast")), 200);  // cheap routes are never queued
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequests) {
  start(ServerOptions{});
  auto slow = std::async(std::launch::async, [&] { return get(port_, "/slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->request_stop();
  std::string reply = slow.get();
  EXPECT_EQ(status_of(reply), 200);
  EXPECT_NE(reply.find("slow done"), std::string::npos);
  thread_.join();
  EXPECT_EQ(get(port_, "/fast"), "connect failed");
}

TEST_F(ServerTest, LimitsAndErrors) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  o.max_header_bytes = 2048;
  start(o);
  std::string body(5000, 'x');
  std::string r = send_and_read(
      port_, "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n" + body);
  EXPECT_EQ(status_of(r), 413) << r;
  EXPECT_EQ(status_of(get(port_, "/fast", "X-Big: " + std::string(4000, 'y') + "\r\n")), 431);
  std::string thrown = get(port_, "/throw");
  EXPECT_EQ(status_of(thrown), 500);
  EXPECT_EQ(thrown.find("/etc/secret"), std::string::npos);
  EXPECT_NE(thrown.find("\"code\":\"internal\""), std::string::npos);
  EXPECT_EQ(status_of(get(port_, "/private")), 401);
  EXPECT_EQ(status_of(get(port_, "/private", "Authorization: Bearer good\r\n")), 200);
  EXPECT_EQ(status_of(get(port_, "/nope")), 404);
  EXPECT_EQ(status_of(send_and_read(port_, "DELETE /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")), 405);
  EXPECT_EQ(status_of(send_and_read(port_, "BLAH\r\n\r\n")), 400);
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start(ServerOptions{});
  std::string two =
      send_and_read(port_,
                    "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"
                    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  // Two complete responses came back on the one connection.
  size_t responses = 0;
  for (size_t at = two.find("HTTP/1.1 200 OK"); at != std::string::npos; at = two.find("HTTP/1.1 200 OK", at + 1)) {
    ++responses;
  }
  EXPECT_EQ(responses, 2u) << two;
  EXPECT_NE(two.find("fast"), std::string::npos);
  EXPECT_NE(two.find("hello"), std::string::npos);
  EXPECT_NE(two.find("X-Request-Id"), std::string::npos);
  std::string text = metrics_.render();
  EXPECT_NE(text.find("route=\"/echo\",method=\"POST\",status=\"200\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace scigate
