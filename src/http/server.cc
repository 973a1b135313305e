#include "http/server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <mutex>
#include <thread>

#include "core/json_util.h"
#include "core/time_util.h"
#include "http/beast_request.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

namespace scigate {

namespace {

// Bytes read from a ByteSource and handed to the socket at a time: what one streamed
// answer costs in memory, whatever the body's size.
constexpr size_t kStreamChunk = 64 << 10;
// After an error that closes the connection, unread request bytes are drained for this
// long (and at most kLingerBytes), so that the client reads the error instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;
// How long the accept loop pauses when the process is out of file descriptors.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// Connection-level counts, shared with the metrics collector (which may outlive the
// server's internals, hence shared ownership).
struct ConnectionCounters {
  std::atomic<size_t> open{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> accept_failures{0};
  std::atomic<size_t> buffered_bytes{0};  // in-memory response bodies being written
  std::atomic<size_t> push_streams{0};    // pushed bodies (event streams) open now
  std::atomic<uint64_t> push_refused{0};  // refused over server.max_event_streams

  std::string prometheus() const {
    return "# HELP scigate_http_open_connections Client connections open now.\n"
           "# TYPE scigate_http_open_connections gauge\n"
           "scigate_http_open_connections " +
           std::to_string(open.load()) +
           "\n# HELP scigate_http_refused_connections_total Connections answered 503 at once (over "
           "server.max_connections, or out of file descriptors).\n"
           "# TYPE scigate_http_refused_connections_total counter\n"
           "scigate_http_refused_connections_total " +
           std::to_string(refused.load()) +
           "\n# HELP scigate_http_accept_failures_total Failed accept() calls, e.g. out of file descriptors.\n"
           "# TYPE scigate_http_accept_failures_total counter\n"
           "scigate_http_accept_failures_total " +
           std::to_string(accept_failures.load()) +
           "\n# HELP scigate_http_buffered_response_bytes In-memory response bodies being written now.\n"
           "# TYPE scigate_http_buffered_response_bytes gauge\n"
           "scigate_http_buffered_response_bytes " +
           std::to_string(buffered_bytes.load()) +
           "\n# HELP scigate_http_event_streams Event streams (pushed bodies) open now.\n"
           "# TYPE scigate_http_event_streams gauge\n"
           "scigate_http_event_streams " +
           std::to_string(push_streams.load()) +
           "\n# HELP scigate_http_event_streams_refused_total Event streams answered 503 (over "
           "server.max_event_streams).\n"
           "# TYPE scigate_http_event_streams_refused_total counter\n"
           "scigate_http_event_streams_refused_total " +
           std::to_string(push_refused.load()) + "\n";
  }
};

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec.value() == ENFILE;
}

}  // namespace

struct Server::Impl {
  ServerOptions opts;
  RequestPipeline pipeline;
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
  std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>();
  std::atomic<bool> stopping{false};
  // The wait timers of open event streams, so that shutdown can wake them at once (each
  // is only touched on its own connection's I/O thread: shutdown posts the cancel there).
  std::mutex push_mu;
  uint64_t next_push_id = 0;
  struct WatchedTimer {
    asio::any_io_executor executor;
    std::weak_ptr<asio::steady_timer> timer;
  };
  std::map<uint64_t, WatchedTimer> push_timers;
  // A spare descriptor, given up when accept() runs out so that the waiting client can
  // still be told 503 rather than left to time out (the libev/nginx trick).
  int spare_fd = -1;

  Impl(ServerOptions o, const Router& r, Authenticator a, Metrics& m)
      : opts(std::move(o)),
        pipeline(r, std::move(a), opts.cors_allowed_origins),
        metrics(m),
        contexts(make_contexts(opts.io_threads)),
        ioc(*contexts[0]),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM),
        pool(static_cast<size_t>(opts.worker_threads)) {
    for (auto& c : contexts) keep_running.push_back(asio::make_work_guard(*c));
    spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    metrics.add_collector([c = counters] { return c->prometheus(); });
  }
  ~Impl() {
    if (spare_fd >= 0) ::close(spare_fd);
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(ioc);
    while (!stopping) {
      asio::io_context& target = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor.async_accept(target, use_tuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        ++counters->accept_failures;
        if (out_of_descriptors(ec)) {
          co_await shed_with_spare_descriptor();
          // Retrying at once would spin a core while nothing can be accepted.
          backoff.expires_after(kAcceptBackoff);
          co_await backoff.async_wait(use_tuple);
        }
        continue;
      }
      auto ex = socket.get_executor();
      if (counters->open.load() >= opts.max_connections) {
        asio::co_spawn(ex, refuse_connection(std::move(socket)), asio::detached);
        continue;
      }
      asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> shed_with_spare_descriptor() {
    if (spare_fd < 0) co_return;
    ::close(spare_fd);
    spare_fd = -1;
    auto [ec, socket] = co_await acceptor.async_accept(ioc, use_tuple);
    if (!ec) co_await refuse_connection(std::move(socket));
    spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  // Over the connection cap: a fixed 503 without reading the request, then close.
  asio::awaitable<void> refuse_connection(tcp::socket socket) {
    ++counters->refused;
    static const std::string kBusy = [] {
      std::string body = R"({"error":{"code":"unavailable","message":"too many connections","request_id":""}})";
      return "HTTP/1.1 503 Service Unavailable\r\nServer: scigate\r\nContent-Type: application/json\r\n"
             "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(1));
    co_await asio::async_write(stream, asio::buffer(kBusy), use_tuple);
    co_await linger_close(stream);
  }

  // Counts a connection for its whole life, also when the session ends by an exception.
  struct ConnectionSlot {
    Impl& impl;
    explicit ConnectionSlot(Impl& i) : impl(i) { ++impl.counters->open; }
    ~ConnectionSlot() { --impl.counters->open; }
  };

  asio::awaitable<void> session(beast::tcp_stream stream) {
    ConnectionSlot slot(*this);
    beast::flat_buffer buffer;  // its size is bounded by the parser's header and body limits
    bool first = true;
    while (!stopping || first) {
      BeastRequestParser parser;
      limit_parser(parser, opts.max_header_bytes, opts.max_body_bytes);
      stream.expires_after(first ? opts.read_timeout : opts.idle_timeout);
      first = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
      if (ec) {
        co_await answer_read_error(stream, ec);
        break;
      }
      ++in_flight;
      bool keep_alive = co_await exchange(stream, buffer, parser);
      --in_flight;
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // One request and its answer, the header already read. Returns whether the connection
  // may serve another request.
  asio::awaitable<bool> exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer, BeastRequestParser& parser) {
    auto started = std::chrono::steady_clock::now();
    BeastRequest& msg = parser.get();
    RequestContext ctx{new_request_id(), "", std::chrono::system_clock::now()};
    std::string route = "unmatched";
    Request req;
    Response resp;
    bool close = false;
    if (auto refused = refuse_header(msg)) {
      req.method = is_known_method(msg.method_string()) ? std::string(msg.method_string()) : "other";
      req.path = std::string(msg.target().substr(0, std::min<size_t>(msg.target().size(), 256)));
      resp = Response::error(*refused, ctx.request_id);
      close = true;
    } else {
      req = to_request(msg);
      RequestPipeline::Dispatch d = pipeline.dispatch(req, ctx);
      route = d.route_label;
      bool body_pending = !parser.is_done();
      if (d.answer && body_pending && expects_continue(msg)) {
        // The client waits before sending the body: answer now and never read it.
        resp = std::move(*d.answer);
        close = true;
      } else {
        if (body_pending && expects_continue(msg)) co_await send_continue(stream, msg.version());
        if (body_pending) {
          auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
          if (ec) {
            co_await answer_read_error(stream, ec);
            co_return false;
          }
        }
        req.body = std::move(msg.body());
        if (d.answer)
          resp = std::move(*d.answer);
        else
          resp = co_await run_handler(*d.route, ctx, req);
      }
    }
    pipeline.decorate(resp, req, ctx);
    if (resp.push) close = close || req.method != "HEAD";  // a pushed body ends with the connection
    bool keep_alive = !close && msg.keep_alive() && !stopping;
    auto bytes = co_await write(stream, resp, keep_alive, msg.version(), req.method == "HEAD");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics.observe(route, req.method, resp.status, seconds);
    log_access(req, ctx, route, resp.status, seconds, bytes);
    if (close && bytes && !resp.push) co_await linger_close(stream);
    co_return keep_alive&& bytes;
  }

  asio::awaitable<void> send_continue(beast::tcp_stream& stream, unsigned version) {
    http::response<http::empty_body> cont{http::status::continue_, version};
    stream.expires_after(opts.write_timeout);
    co_await http::async_write(stream, cont, use_tuple);
    stream.expires_after(opts.read_timeout);
  }

  // Stops sending, then reads and drops what the client still sends (bounded in time and
  // bytes), so that closing does not reset the connection before the answer is read.
  asio::awaitable<void> linger_close(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(kLingerTime);
    std::array<char, 4096> sink;
    size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
      drained += n;
    }
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
    Response resp = Response::error(err, new_request_id());
    if (co_await write(stream, resp, false, 11, false)) co_await linger_close(stream);
  }

  asio::awaitable<Response> run_handler(const Route& route, RequestContext& ctx, Request& req) {
    if (!route.blocking) co_return RequestPipeline::call(route, ctx, req);
    if (pending.load() >= opts.worker_queue + static_cast<size_t>(opts.worker_threads)) {
      co_return Response::error({ErrorCode::kUnavailable, "worker queue full", "server busy, retry later"},
                                ctx.request_id);
    }
    ++pending;
    Response resp = co_await asio::co_spawn(
        pool, [&]() -> asio::awaitable<Response> { co_return RequestPipeline::call(route, ctx, req); },
        asio::use_awaitable);
    --pending;
    co_return resp;
  }

  template <class Message>
  void fill(Message& res, const Response& resp, bool keep_alive, unsigned version) {
    res.version(version);
    res.result(static_cast<http::status>(resp.status));
    res.keep_alive(keep_alive);
    res.set(http::field::server, "scigate");
    if (!resp.content_type.empty()) res.set(http::field::content_type, resp.content_type);
    for (const auto& [k, v] : resp.headers) res.insert(k, v);
  }

  // Returns bytes written, 0 on failure. A HEAD answer carries the headers of the GET
  // answer, Content-Length included, and no body.
  asio::awaitable<size_t> write(beast::tcp_stream& stream, Response& resp, bool keep_alive, unsigned version,
                                bool head) {
    if (resp.stream) co_return co_await write_streamed(stream, resp, keep_alive, version, head);
    if (resp.push && !head) {
      if (auto slot = PushSlot::take(*this)) co_return co_await write_pushed(stream, resp, version, *slot);
      ++counters->push_refused;
      resp = Response::error(
          {ErrorCode::kUnavailable, "event stream cap reached", "too many event streams, retry later"}, "");
    }
    if (head) {
      http::response<http::empty_body> res;
      fill(res, resp, keep_alive, version);
      res.content_length(resp.body.size());
      stream.expires_after(opts.write_timeout);
      auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
      co_return ec ? 0 : n;
    }
    // In-memory bodies waiting on slow readers are what clients could pile up: past the
    // budget, a large one is replaced by a 503. Small ones are not counted.
    size_t held = resp.body.size() > kStreamChunk ? resp.body.size() : 0;
    if (held && counters->buffered_bytes.fetch_add(held) + held > opts.max_buffered_response_bytes) {
      counters->buffered_bytes -= held;
      held = 0;
      resp = Response::error({ErrorCode::kUnavailable, "response buffer budget exhausted", "server busy, retry later"},
                             "");
    }
    http::response<http::string_body> res;
    fill(res, resp, keep_alive, version);
    res.body() = std::move(resp.body);
    res.prepare_payload();
    stream.expires_after(opts.write_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    counters->buffered_bytes -= held;
    co_return ec ? 0 : n;
  }

  // Sends a ByteSource chunk by chunk; the write timeout applies per chunk, so a large
  // download is bounded by stalls, not by its total duration.
  asio::awaitable<size_t> write_streamed(beast::tcp_stream& stream, Response& resp, bool keep_alive, unsigned version,
                                         bool head) {
    ByteSource& source = *resp.stream;
    http::response<http::buffer_body> res;
    fill(res, resp, keep_alive, version);
    res.content_length(source.size());
    res.body().data = nullptr;
    res.body().more = !head && source.size() > 0;
    http::response_serializer<http::buffer_body> sr{res};
    stream.expires_after(opts.write_timeout);
    auto [hec, total] = co_await http::async_write_header(stream, sr, use_tuple);
    if (hec) co_return 0;
    if (head) co_return total;
    std::vector<char> chunk(kStreamChunk);
    for (uint64_t left = source.size(); left > 0;) {
      size_t got = source.read(chunk.data(), static_cast<size_t>(std::min<uint64_t>(chunk.size(), left)));
      if (got == 0) {
        spdlog::warn("a streamed body ended {} bytes early; closing the connection", left);
        co_return 0;  // Content-Length was promised: only closing tells the client
      }
      left -= got;
      res.body().data = chunk.data();
      res.body().size = got;
      res.body().more = left > 0;
      stream.expires_after(opts.write_timeout);
      auto [ec, n] = co_await http::async_write(stream, sr, use_tuple);
      if (ec && ec != http::error::need_buffer) co_return 0;
      total += n;
    }
    co_return total;
  }

  // One open event stream, counted against max_event_streams for its whole life, and
  // its wait timer registered for shutdown.
  class PushSlot {
   public:
    static std::optional<PushSlot> take(Impl& impl) {
      if (impl.counters->push_streams.fetch_add(1) >= impl.opts.max_event_streams) {
        --impl.counters->push_streams;
        return std::nullopt;
      }
      return PushSlot(impl);
    }
    PushSlot(PushSlot&& o) noexcept : impl_(std::exchange(o.impl_, nullptr)), id_(o.id_) {}
    PushSlot& operator=(PushSlot&&) = delete;
    ~PushSlot() {
      if (!impl_) return;
      std::lock_guard lock(impl_->push_mu);
      impl_->push_timers.erase(id_);
      --impl_->counters->push_streams;
    }
    void watch(const std::shared_ptr<asio::steady_timer>& timer) {
      std::lock_guard lock(impl_->push_mu);
      impl_->push_timers[id_] = {timer->get_executor(), timer};
    }

   private:
    explicit PushSlot(Impl& impl) : impl_(&impl) {
      std::lock_guard lock(impl.push_mu);
      id_ = impl.next_push_id++;
    }
    Impl* impl_;
    uint64_t id_ = 0;
  };

  // Sends a PushSource's body as it comes (chunked; HTTP/1.0: until the connection
  // closes). Between polls the coroutine waits for whichever comes first: the next poll,
  // a keep-alive, the end of its lifetime, shutdown (which cancels the timer), or the
  // client: a client sends nothing after its request, so a completed read means it closed
  // or reset the connection (or misbehaves), and the stream ends at once, freeing its slot.
  asio::awaitable<size_t> write_pushed(beast::tcp_stream& stream, Response& resp, unsigned version, PushSlot& slot) {
    using namespace asio::experimental::awaitable_operators;
    --in_flight;  // a stream may last long: draining on shutdown does not wait for it
    struct Recount {
      std::atomic<size_t>& n;
      ~Recount() { ++n; }
    } recount{in_flight};
    std::shared_ptr<PushSource> source = resp.push;
    http::response<http::buffer_body> res;
    fill(res, resp, false, version);
    res.chunked(version >= 11);
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr{res};
    stream.expires_after(opts.write_timeout);
    // `total` is no structured binding: the lambda below captures it, which clang 14 (the
    // fuzz build) does not allow for bindings.
    auto [hec, header_bytes] = co_await http::async_write_header(stream, sr, use_tuple);
    if (hec) co_return 0;
    size_t total = header_bytes;
    auto send = [&](std::string& bytes, bool more) -> asio::awaitable<bool> {
      res.body().data = bytes.empty() ? nullptr : bytes.data();
      res.body().size = bytes.size();
      res.body().more = more;
      if (bytes.empty() && more) co_return true;
      stream.expires_after(opts.write_timeout);
      auto [ec, n] = co_await http::async_write(stream, sr, use_tuple);
      total += n;
      co_return !ec || ec == http::error::need_buffer;
    };
    auto timer = std::make_shared<asio::steady_timer>(stream.get_executor());
    slot.watch(timer);
    using Clock = std::chrono::steady_clock;
    const auto end_of_life = Clock::now() + opts.event_stream_lifetime;
    auto last_sent = Clock::now();
    auto next_poll = Clock::now();
    std::array<char, 256> sink;
    bool client_gone = false;
    while (!stopping && !client_gone && Clock::now() < end_of_life) {
      if (Clock::now() >= next_poll) {
        PushSource::Chunk chunk = co_await poll_push(*source);
        if (!chunk.bytes.empty()) {
          if (!co_await send(chunk.bytes, true)) co_return 0;
          last_sent = Clock::now();
        }
        if (chunk.done) break;
        next_poll = chunk.again ? Clock::now() : Clock::now() + source->interval();
        if (chunk.again) continue;
      }
      if (Clock::now() - last_sent >= opts.event_stream_keepalive) {
        std::string ping = source->keepalive();
        if (!co_await send(ping, true)) co_return 0;
        last_sent = Clock::now();
      }
      if (stopping) break;
      timer->expires_at(std::min({next_poll, last_sent + opts.event_stream_keepalive, end_of_life}));
      stream.expires_never();
      auto woke =
          co_await (timer->async_wait(use_tuple) || stream.socket().async_read_some(asio::buffer(sink), use_tuple));
      client_gone = woke.index() == 1;
    }
    if (client_gone) co_return total;
    std::string last;
    co_await send(last, false);  // the last chunk: the client sees a clean end and may resume
    co_return total;
  }

  asio::awaitable<PushSource::Chunk> poll_push(PushSource& source) {
    co_return co_await asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<PushSource::Chunk> {
          try {
            co_return source.poll();
          } catch (const std::exception& e) {
            spdlog::error("an event stream's poll threw: {}", e.what());
          }
          co_return PushSource::Chunk{"", true, false};
        },
        asio::use_awaitable);
  }

  // One JSON line, built by hand: this runs for every request. Paths are cut so that a
  // line stays below PIPE_BUF, which keeps it whole on a pipe whatever the other thread writes.
  void log_access(const Request& req, const RequestContext& ctx, const std::string& route, int status, double seconds,
                  size_t bytes) {
    if (opts.access_log_fd < 0) return;
    constexpr size_t kMaxLoggedPath = 2048;
    char latency[32];
    auto end = std::to_chars(latency, latency + sizeof latency, seconds * 1000.0, std::chars_format::fixed, 3).ptr;
    std::string line;
    line.reserve(320 + std::min(req.path.size(), kMaxLoggedPath));
    line += "{\"ts\":\"";
    line += format_iso8601(ctx.now);
    line += "\",\"request_id\":\"";
    line += ctx.request_id;
    line += "\",\"method\":";
    append_json_string(line, req.method);
    line += ",\"path\":";
    append_json_string(line, std::string_view(req.path).substr(0, kMaxLoggedPath));
    line += ",\"route\":";
    append_json_string(line, route);
    line += ",\"status\":" + std::to_string(status) + ",\"latency_ms\":";
    line.append(latency, end);
    line += ",\"bytes\":" + std::to_string(bytes) + ",\"user\":";
    append_json_string(line, ctx.username);
    line += "}\n";
    for (size_t off = 0; off < line.size();) {
      ssize_t n = ::write(opts.access_log_fd, line.data() + off, line.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a full disk must not stop the server; the line is lost
      off += static_cast<size_t>(n);
    }
  }

  void begin_shutdown() {
    if (stopping.exchange(true)) return;
    spdlog::info("shutting down: draining {} in-flight requests", in_flight.load());
    beast::error_code ec;
    acceptor.close(ec);
    {
      // Event streams do not hold up shutdown: each wakes now, ends its body and closes.
      std::lock_guard lock(push_mu);
      for (auto& [id, watched] : push_timers) {
        asio::post(watched.executor, [timer = watched.timer] {
          if (auto t = timer.lock()) t->cancel();
        });
      }
    }
    auto deadline = std::chrono::steady_clock::now() + opts.shutdown_grace;
    asio::co_spawn(ioc, drain(deadline), asio::detached);
  }

  asio::awaitable<void> drain(std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(ioc);
    // Event streams end at once on stop (above); waiting for them lets them send their end.
    while (in_flight.load() + counters->push_streams.load() > 0 && std::chrono::steady_clock::now() < deadline) {
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
