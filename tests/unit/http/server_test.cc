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

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A connected socket for exchanges that need several steps; closed on destruction.
class Conn {
 public:
  explicit Conn(uint16_t port, int rcvbuf = 0) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& data) { ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL); }
  // Reads until `marker` has arrived (or the peer closes / 5 s pass).
  std::string read_until(const std::string& marker) {
    std::string out;
    char buf[4096];
    while (out.find(marker) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  std::string read_all() { return read_until("\x01never\x02"); }

 private:
  int fd_;
  bool connected_ = false;
};

constexpr size_t kLargeBody = 24 << 20;

// Says "hello" once, then nothing; never done: only its lifetime, the client or shutdown end it.
class HelloThenQuiet final : public PushSource {
 public:
  Chunk poll() override { return {std::exchange(first_, false) ? "hello\n" : "", false, false}; }
  std::chrono::milliseconds interval() const override { return std::chrono::milliseconds(50); }
  std::string keepalive() const override { return "ka\n"; }

 private:
  bool first_ = true;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts) {
    auto slow = [](const RequestContext&, const Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return Response::text(200, "slow done");
    };
    router_.add({"GET", "/slow", Auth::kNone, true, slow});
    router_.add({"GET", "/fast", Auth::kNone, false,
                 [](const RequestContext&, const Request&) { return Response::text(200, "fast"); }});
    router_.add({"POST", "/echo", Auth::kNone, true,
                 [](const RequestContext&, const Request& r) { return Response::text(200, r.body); }});
    router_.add({"GET", "/throw", Auth::kNone, true, [](const RequestContext&, const Request&) -> Response {
                   throw std::runtime_error("internal detail /etc/secret");
                 }});
    router_.add({"GET", "/private", Auth::kRequired, true,
                 [](const RequestContext& c, const Request&) { return Response::text(200, c.username); }});
    router_.add({"POST", "/private", Auth::kRequired, true,
                 [](const RequestContext& c, const Request& r) { return Response::text(200, c.username + r.body); }});
    router_.add({"GET", "/maybe", Auth::kOptional, false, [](const RequestContext& c, const Request&) {
                   return Response::text(200, c.username.empty() ? "anonymous" : c.username);
                 }});
    router_.add({"GET", "/large", Auth::kNone, true, [](const RequestContext&, const Request&) {
                   return Response::text(200, std::string(kLargeBody, 'L'));
                 }});
    router_.add({"GET", "/push", Auth::kNone, true, [](const RequestContext&, const Request&) {
                   Response r = Response::text(200, "", "text/event-stream");
                   r.push = std::make_shared<HelloThenQuiet>();
                   return r;
                 }});
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
  EXPECT_NE(text.find("route=\"/echo\",method=\"POST\",status=\"2xx\"} 1"), std::string::npos) << text;
}

// RFC 9112 §6.3: only "chunked" gives a body a length. Anything else must not be read
// as "no body", or the body would be served as a second (smuggled) request.
TEST_F(ServerTest, RefusesTransferEncodingsOtherThanChunked) {
  start(ServerOptions{});
  const std::string smuggled = "GET /fast HTTP/1.1\r\nHost: t\r\n\r\n";
  for (std::string te : {"xchunked", "chunked, identity", "identity", "chunked\r\nTransfer-Encoding: chunked"}) {
    std::string r = send_and_read(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + te + "\r\n\r\n" +
                                             "5\r\nhello\r\n0\r\n\r\n" + smuggled);
    EXPECT_EQ(status_of(r), 400) << te << ": " << r;
    EXPECT_EQ(count_of(r, "HTTP/1.1 "), 1u) << te << ": " << r;
    EXPECT_EQ(r.find("fast"), std::string::npos) << te;
  }
  std::string both = send_and_read(port_,
                                   "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: "
                                   "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
                                       smuggled);
  EXPECT_EQ(count_of(both, "HTTP/1.1 "), 1u) << both;
  EXPECT_EQ(status_of(both), 400) << both;
  // Plain chunked still works, and the connection goes on.
  std::string ok = send_and_read(
      port_, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
                 std::string("GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(count_of(ok, "HTTP/1.1 200 OK"), 2u) << ok;
  EXPECT_NE(ok.find("hello"), std::string::npos);
}

TEST_F(ServerTest, UnknownMethodsAre501AndLeaveNoTrace) {
  start(ServerOptions{});
  for (int i = 0; i < 50; ++i) {
    std::string method = "M" + std::to_string(i) + std::string(4000, 'X');
    std::string r = send_and_read(port_, method + " /fast HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(status_of(r), 501) << r.substr(0, 200);
  }
  EXPECT_EQ(status_of(send_and_read(port_, "TRACE /fast HTTP/1.1\r\nHost: t\r\n\r\n")), 501);
  std::string text = metrics_.render();
  EXPECT_EQ(text.find("XXXX"), std::string::npos);
  EXPECT_LT(text.size(), 20000u);
  EXPECT_NE(text.find("method=\"other\",status=\"5xx\"} 51"), std::string::npos) << text;
}

TEST_F(ServerTest, TwoAuthorizationHeadersAreRefused) {
  start(ServerOptions{});
  std::string r = get(port_, "/private", "Authorization: Bearer bad\r\nAuthorization: Bearer good\r\n");
  EXPECT_EQ(status_of(r), 400) << r;
  EXPECT_NE(r.find("more than one Authorization header"), std::string::npos);
  EXPECT_EQ(status_of(get(port_, "/private", "Authorization: Bearer good\r\n")), 200);
}

TEST_F(ServerTest, ExpectContinueGetsA100OnlyWhenTheRequestWouldBeServed) {
  start(ServerOptions{});
  {
    Conn c(port_);
    c.send(
        "POST /private HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer good\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    std::string interim = c.read_until("\r\n\r\n");
    EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
    c.send("hello");
    std::string rest = interim + c.read_all();
    EXPECT_NE(rest.find("HTTP/1.1 200 OK"), std::string::npos) << rest;
    EXPECT_NE(rest.find("thomashello"), std::string::npos) << rest;
  }
  {
    Conn c(port_);
    c.send(
        "POST /private HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer bad\r\nContent-Length: 5\r\n"
        "Expect: 100-continue\r\n\r\n");
    std::string r = c.read_all();  // the server answers and closes without waiting for the body
    EXPECT_EQ(status_of(r), 401) << r;
    EXPECT_EQ(r.find("100 Continue"), std::string::npos) << r;
  }
}

TEST_F(ServerTest, HeadAnswersGetRoutesWithoutABody) {
  start(ServerOptions{});
  std::string r = send_and_read(port_, "HEAD /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_NE(r.find("Content-Length: 4\r\n"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\n")) << r;
  std::string allow = send_and_read(port_, "PUT /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(allow), 405);
  EXPECT_NE(allow.find("Allow: GET, HEAD"), std::string::npos) << allow;
}

TEST_F(ServerTest, ConnectionsBeyondTheCapGet503) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  Conn a(port_), b(port_);
  ASSERT_TRUE(a.connected() && b.connected());
  for (int i = 0; i < 200 && metrics_.render().find("scigate_http_open_connections 2") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string refused = get(port_, "/fast");
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(metrics_.render().find("scigate_http_refused_connections_total 1"), std::string::npos);
  a.send("GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(a.read_all()), 200);  // the connections inside the cap are served
  for (int i = 0; i < 200 && metrics_.render().find("scigate_http_open_connections 1") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(status_of(get(port_, "/fast")), 200);  // and a freed slot is usable again
}

// Slow readers may not pile up in-memory answers without bound: past the budget a large
// answer is a 503, and the budget is given back once a body has been sent.
TEST_F(ServerTest, InMemoryBodiesHeldForSlowReadersAreBounded) {
  ServerOptions o;
  o.max_buffered_response_bytes = kLargeBody + kLargeBody / 2;
  start(o);
  Conn slow(port_, 4096);
  slow.send("GET /large HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  for (int i = 0; i < 500 && metrics_.render().find("scigate_http_buffered_response_bytes 0\n") != std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string busy = get(port_, "/large");
  EXPECT_EQ(status_of(busy), 503) << busy.substr(0, 300);
  std::string body = slow.read_all();
  EXPECT_EQ(status_of(body), 200);
  EXPECT_EQ(body.size() - body.find("\r\n\r\n") - 4, kLargeBody);
  EXPECT_EQ(status_of(get(port_, "/large")), 200);
}

// Routes that accept either a token or another proof (a signed URL) checked by the
// handler: a token is verified when sent, and a bad one is still a 401.
TEST_F(ServerTest, OptionalAuthVerifiesATokenOnlyWhenOneIsSent) {
  start(ServerOptions{});
  std::string anon = get(port_, "/maybe");
  EXPECT_EQ(status_of(anon), 200);
  EXPECT_NE(anon.find("anonymous"), std::string::npos);
  std::string user = get(port_, "/maybe", "Authorization: Bearer good\r\n");
  EXPECT_NE(user.find("thomas"), std::string::npos);
  EXPECT_EQ(status_of(get(port_, "/maybe", "Authorization: Bearer bad\r\n")), 401);
}

}  // namespace
}  // namespace scigate

namespace scigate {
namespace {

const char* kPushRequest = "GET /push HTTP/1.1\r\nHost: t\r\n\r\n";

TEST_F(ServerTest, PushedBodyIsChunkedKeptAliveAndEndsAfterItsLifetime) {
  ServerOptions o;
  o.event_stream_keepalive = std::chrono::milliseconds(100);
  o.event_stream_lifetime = std::chrono::milliseconds(1000);
  start(o);
  Conn c(port_);
  c.send(kPushRequest);
  std::string all = c.read_all();  // the server ends the body after its lifetime
  EXPECT_EQ(status_of(all), 200);
  EXPECT_NE(all.find("Transfer-Encoding: chunked"), std::string::npos) << all;
  EXPECT_NE(all.find("Connection: close"), std::string::npos) << all;
  EXPECT_NE(all.find("hello\n"), std::string::npos);
  EXPECT_GE(count_of(all, "ka\n"), 3u);                // a keep-alive every 100 ms of silence
  EXPECT_TRUE(all.ends_with("\r\n0\r\n\r\n")) << all;  // a clean end: the client may resume
}

TEST_F(ServerTest, PushedStreamsAreCappedAndAClosedOneFreesItsSlotAtOnce) {
  ServerOptions o;
  o.max_event_streams = 1;
  start(o);
  auto first = std::make_unique<Conn>(port_);
  first->send(kPushRequest);
  ASSERT_NE(first->read_until("hello").find("hello"), std::string::npos);
  std::string refused = get(port_, "/push");
  EXPECT_EQ(status_of(refused), 503);
  EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
  EXPECT_NE(metrics_.render().find("scigate_http_event_streams_refused_total 1"), std::string::npos);
  first.reset();  // the client goes away; the stream has nothing to send for 15 s
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::string again;
  while (std::chrono::steady_clock::now() < deadline) {
    Conn c(port_);
    c.send(kPushRequest);
    again = c.read_until("\r\n\r\n");
    if (status_of(again) == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status_of(again), 200) << again;
}

TEST_F(ServerTest, ShutdownEndsPushedStreamsWithoutWaitingForThem) {
  ServerOptions o;
  o.shutdown_grace = std::chrono::milliseconds(20'000);
  start(o);
  Conn c(port_);
  c.send(kPushRequest);
  ASSERT_NE(c.read_until("hello").find("hello"), std::string::npos);
  auto asked = std::chrono::steady_clock::now();
  server_->request_stop();
  std::string rest = c.read_all();
  thread_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));  // not the 20 s grace
  EXPECT_TRUE(rest.ends_with("0\r\n\r\n")) << rest;
}

}  // namespace
}  // namespace scigate
