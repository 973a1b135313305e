#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <thread>

#include "core/time_util.h"
#include "http/beast_request.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace scigate {

namespace {

bool origin_allowed(const std::vector<std::string>& allowed, const std::string& origin) {
  if (origin.empty()) return false;
  for (const auto& a : allowed) {
    if (a == "*" || a == origin) return true;
  }
  return false;
}

}  // namespace

struct Server::Impl {
  ServerOptions opts;
  const Router& router;
  Authenticator authenticate;
  Metrics& metrics;
  // One single-threaded io_context per I/O thread: a connection lives on one of them for
  // its whole life, so there are no strands and no cross-thread wake-ups per request.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  asio::io_context& ioc;  // contexts[0]: acceptor, signals, shutdown
  tcp::acceptor acceptor;
  asio::signal_set signals;
  size_t next_context = 0;
  asio::thread_pool pool;
  std::atomic<size_t> pending{0};    // requests on or waiting for the worker pool
  std::atomic<size_t> in_flight{0};  // requests read and not yet answered
  std::atomic<bool> stopping{false};

  Impl(ServerOptions o, const Router& r, Authenticator a, Metrics& m)
      : opts(std::move(o)),
        router(r),
        authenticate(std::move(a)),
        metrics(m),
        contexts(make_contexts(opts.io_threads)),
        ioc(*contexts[0]),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM),
        pool(static_cast<size_t>(opts.worker_threads)) {
    for (auto& c : contexts) keep_running.push_back(asio::make_work_guard(*c));
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  asio::awaitable<void> accept_loop() {
    while (!stopping) {
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor.async_accept(target, use_tuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;  // its size is bounded by the parser's header and body limits
    bool first = true;
    while (!stopping || first) {
      BeastRequestParser parser;
      limit_parser(parser, opts.max_header_bytes, opts.max_body_bytes);
      stream.expires_after(first ? opts.read_timeout : opts.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec) {
        co_await answer_read_error(stream, ec);
        break;
      }
      auto& msg = parser.get();
      ++in_flight;
      auto started = std::chrono::steady_clock::now();
      Request req = to_request(msg);
      RequestContext ctx{random_hex(8), "", std::chrono::system_clock::now()};
      std::string route = "unmatched";
      Response resp = co_await handle(req, ctx, route);
      decorate(resp, req, ctx);
      bool keep_alive = msg.keep_alive() && !stopping;
      stream.expires_after(opts.write_timeout);
      auto bytes = co_await write(stream, resp, keep_alive, msg.version());
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics.observe(route, req.method, resp.status, seconds);
      log_access(req, ctx, route, resp.status, seconds, bytes);
      --in_flight;
      if (!keep_alive || !bytes) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Limits exceeded or garbage: answer once, then close. Timeouts and EOF just close.
  asio::awaitable<void> answer_read_error(beast::tcp_stream& stream, beast::error_code ec) {
    Error err;
    if (ec == http::error::body_limit) {
      err = {ErrorCode::kPayloadTooLarge, "body too large", "request body too large"};
    } else if (ec == http::error::header_limit) {
      err = {ErrorCode::kHeadersTooLarge, "headers too large", "request headers too large"};
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      err = Error::bad_request("malformed HTTP request");
    } else {
      co_return;
    }
    Response resp = Response::error(err, random_hex(8));
    stream.expires_after(opts.write_timeout);
    co_await write(stream, resp, false, 11);
  }

  asio::awaitable<Response> handle(Request& req, RequestContext& ctx, std::string& route_label) {
    RouteMatch m = router.match(req);
    if (req.method == "OPTIONS" && m.path_known) {
      route_label = "preflight";
      Response r = Response::text(204, "");
      r.content_type.clear();
      r.with_header("Allow", m.allowed_methods + ", OPTIONS");
      if (origin_allowed(opts.cors_allowed_origins, req.header("origin"))) {
        r.with_header("Access-Control-Allow-Methods", m.allowed_methods + ", OPTIONS")
            .with_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
            .with_header("Access-Control-Max-Age", "600");
      }
      co_return r;
    }
    if (!m.route) {
      if (!m.path_known) co_return Response::error(Error::not_found("no such endpoint"), ctx.request_id);
      co_return Response::error({ErrorCode::kMethodNotAllowed, "method", "method not allowed"}, ctx.request_id)
          .with_header("Allow", m.allowed_methods);
    }
    route_label = m.route->pattern;
    if (m.route->authenticated) {
      auto user = authenticate(req.header("authorization"));
      if (!user) co_return Response::error(user.error(), ctx.request_id);
      ctx.username = std::move(user).value();
    }
    const Route* route = m.route;
    if (!route->blocking) co_return call(*route, ctx, req);
    if (pending.load() >= opts.worker_queue + static_cast<size_t>(opts.worker_threads)) {
      co_return Response::error({ErrorCode::kUnavailable, "worker queue full", "server busy, retry later"},
                                ctx.request_id);
    }
    ++pending;
    Response resp = co_await asio::co_spawn(
        pool, [&]() -> asio::awaitable<Response> { co_return call(*route, ctx, req); }, asio::use_awaitable);
    --pending;
    co_return resp;
  }

  Response call(const Route& route, const RequestContext& ctx, const Request& req) {
    try {
      return route.handler(ctx, req);
    } catch (const std::exception& e) {
      spdlog::error("request {}: handler for {} threw: {}", ctx.request_id, route.pattern, e.what());
    } catch (...) {
      spdlog::error("request {}: handler for {} threw", ctx.request_id, route.pattern);
    }
    return Response::error(Error::internal_error("handler threw"), ctx.request_id);
  }

  void decorate(Response& resp, const Request& req, const RequestContext& ctx) {
    resp.with_header("X-Request-Id", ctx.request_id);
    std::string origin = req.header("origin");
    if (origin_allowed(opts.cors_allowed_origins, origin)) {
      resp.with_header("Access-Control-Allow-Origin", origin)
          .with_header("Vary", "Origin")
          .with_header("Access-Control-Expose-Headers", "X-Request-Id");
    }
  }

  // Returns bytes written, 0 on failure.
  asio::awaitable<size_t> write(beast::tcp_stream& stream, Response& resp, bool keep_alive, unsigned version) {
    auto fill = [&](auto& res) {
      res.version(version);
      res.result(static_cast<http::status>(resp.status));
      res.keep_alive(keep_alive);
      res.set(http::field::server, "scigate");
      if (!resp.content_type.empty()) res.set(http::field::content_type, resp.content_type);
      for (const auto& [k, v] : resp.headers) res.insert(k, v);
    };
    if (resp.file) {
      http::response<http::file_body> res;
      beast::error_code ec;
      res.body().open(resp.file->c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        fill(res);
        res.prepare_payload();
        auto [wec, n] = co_await http::async_write(stream, res, use_tuple);
        co_return wec ? 0 : n;
      }
      resp = Response::error(Error::not_found("file vanished"), "");
    }
    http::response<http::string_body> res;
    fill(res);
    res.body() = std::move(resp.body);
    res.prepare_payload();
    auto [wec, n] = co_await http::async_write(stream, res, use_tuple);
    co_return wec ? 0 : n;
  }

  void log_access(const Request& req, const RequestContext& ctx, const std::string& route, int status, double seconds,
                  size_t bytes) {
    if (!opts.access_log) return;
    boost::json::object line{{"ts", format_iso8601(ctx.now)},
                             {"request_id", ctx.request_id},
                             {"method", req.method},
                             {"path", req.path},
                             {"route", route},
                             {"status", status},
                             {"latency_ms", seconds * 1000.0},
                             {"bytes", bytes},
                             {"user", ctx.username}};
    opts.access_log->info(boost::json::serialize(line));
  }

  void begin_shutdown() {
    if (stopping.exchange(true)) return;
    spdlog::info("shutting down: draining {} in-flight requests", in_flight.load());
    beast::error_code ec;
    acceptor.close(ec);
    auto deadline = std::chrono::steady_clock::now() + opts.shutdown_grace;
    asio::co_spawn(ioc, drain(deadline), asio::detached);
  }

  asio::awaitable<void> drain(std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(ioc);
    while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(use_tuple);
    }
    keep_running.clear();
    for (auto& c : contexts) c->stop();
  }
};

Server::Server(ServerOptions options, const Router& router, Authenticator authenticator, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(authenticator), metrics)) {}

Server::~Server() {
  impl_->pool.stop();
  impl_->pool.join();
}

Status Server::listen() {
  auto& i = *impl_;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(i.opts.host == "localhost" ? "127.0.0.1" : i.opts.host, ec);
  if (ec) return Error::internal_error("invalid listen host " + i.opts.host);
  tcp::endpoint ep(address, i.opts.port);
  i.acceptor.open(ep.protocol(), ec);
  if (!ec) i.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) i.acceptor.bind(ep, ec);
  if (!ec) i.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error::internal_error("cannot listen on " + i.opts.host + ":" + std::to_string(i.opts.port) + ": " +
                                 ec.message());
  return ok_status();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::run() {
  auto& i = *impl_;
  i.signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) impl_->begin_shutdown();
  });
  asio::co_spawn(i.ioc, i.accept_loop(), asio::detached);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < i.contexts.size(); ++t) threads.emplace_back([&i, t] { i.contexts[t]->run(); });
  i.ioc.run();
  for (auto& t : threads) t.join();
}

void Server::request_stop() {
  asio::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

}  // namespace scigate
