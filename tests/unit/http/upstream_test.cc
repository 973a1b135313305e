// UpstreamClient over real loopback sockets: kept-alive connections reused across calls,
// request bodies streamed from a byte range of a file.
#include "http_client/upstream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <fstream>
#include <mutex>
#include <thread>

#include "temp_dir.h"

namespace scigate {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Seen {
  std::string method;
  std::string content_length;
  std::string body;
};

// A keep-alive HTTP/1.1 server on a free loopback port: answers every request 200,
// counts the connections it accepts and keeps what each request sent.
class RecordingServer {
 public:
  RecordingServer() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accepting_ = std::thread([this] { accept_loop(); });
  }
  ~RecordingServer() {
    stopping_ = true;
    tcp::socket wake(ioc_);
    boost::system::error_code ec;
    wake.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
    accepting_.join();
    for (auto& t : serving_) t.join();  // each ends when its client closes the connection
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/x"; }
  int connections() const { return connections_; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void accept_loop() {
    for (;;) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      ++connections_;
      serving_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
  void serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      boost::system::error_code ec;
      http::read(socket, buffer, parser, ec);
      if (ec) return;
      auto& req = parser.get();
      {
        std::lock_guard lock(mu_);
        seen_.push_back({std::string(req.method_string()), std::string(req[http::field::content_length]), req.body()});
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "ok";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accepting_;
  std::vector<std::thread> serving_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

UpstreamRequest get(const std::string& url) { return {"GET", url, {}, "", std::nullopt, std::chrono::seconds(5)}; }

TEST(Upstream, ConsecutiveCallsReuseOneConnection) {
  RecordingServer server;
  UpstreamClient client;
  for (int i = 0; i < 20; ++i) {
    auto r = client.send(get(server.url()));
    ASSERT_TRUE(r) << r.error().internal;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(Upstream, ParallelCallersKeepOneConnectionEach) {
  RecordingServer server;
  UpstreamClient client;
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) ok += client.send(get(server.url())) ? 1 : 0;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok, 100);
  EXPECT_LE(server.connections(), 4);
}

class UpstreamFileBody : public ::testing::Test {
 protected:
  void SetUp() override {
    data_.resize((3 << 20) + 123);
    for (size_t i = 0; i < data_.size(); ++i) data_[i] = static_cast<char>((i * 13 + i / 4099) & 0xff);
    std::ofstream(file_, std::ios::binary).write(data_.data(), static_cast<std::streamsize>(data_.size()));
  }
  testing::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "body.bin";
  std::string data_;
};

TEST_F(UpstreamFileBody, SendsExactlyTheRange) {
  RecordingServer server;
  UpstreamClient client;
  UpstreamRequest put{"PUT", server.url(), {}, "ignored", std::nullopt, std::chrono::seconds(10)};
  auto r = client.send(put, FileRange{file_, 1001, (2 << 20) + 7});
  ASSERT_TRUE(r) << r.error().internal;
  ASSERT_TRUE(client.send(put, FileRange{file_, 0, data_.size()}));
  ASSERT_TRUE(client.send(put, FileRange{file_, 5, 0}));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].content_length, std::to_string((2 << 20) + 7));
  EXPECT_TRUE(seen[0].body == data_.substr(1001, (2 << 20) + 7));
  EXPECT_TRUE(seen[1].body == data_);
  EXPECT_EQ(seen[2].content_length, "0");
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(UpstreamFileBody, FileShorterThanTheRangeFailsWithoutSendingAShortBody) {
  RecordingServer server;
  UpstreamClient client;
  UpstreamRequest put{"PUT", server.url(), {}, "", std::nullopt, std::chrono::seconds(10)};
  auto r = client.send(put, FileRange{file_, 100, data_.size()});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().internal.find("shorter than announced"), std::string::npos) << r.error().internal;
  EXPECT_TRUE(server.seen().empty());
  auto missing = client.send(put, FileRange{dir_.path() / "missing.bin", 0, 10});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().internal.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace scigate
