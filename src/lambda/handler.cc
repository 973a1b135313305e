#include "lambda/handler.h"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "lambda/authorizer.h"

namespace scigate::lambda {

namespace {

// Lambda's answer is buffered: a streamed body is read whole, up to what one answer may
// hold once base64-encoded (4 bytes for 3).
constexpr uint64_t kMaxStreamedBody = kMaxResponsePayload / 4 * 3 - 64 * 1024;

Status read_body(Response& resp) {
  if (resp.stream) {
    if (resp.stream->size() > kMaxStreamedBody) {
      return Error{ErrorCode::kUpstreamFailed, "answer too large for Lambda",
                   "the answer is larger than a Lambda answer may be (6 MB): ask for a byte range, or use the "
                   "file's download link"};
    }
    resp.body = read_all(*resp.stream);
    resp.stream.reset();
  }
  if (resp.push) {
    // An event stream cannot stay open through API Gateway: what is ready now is sent and
    // the stream ends; EventSource clients reconnect with Last-Event-ID and get the rest.
    for (int polls = 0; polls < 64; ++polls) {
      PushSource::Chunk chunk = resp.push->poll();
      resp.body += chunk.bytes;
      if (chunk.done || !chunk.again) break;
    }
    resp.push.reset();
  }
  return ok_status();
}

// Routes that read runs from the ledger (api/routes.cc).
bool reads_runs(const Request& req, const std::string& route_label) {
  return route_label.rfind("/runs/", 0) == 0 || (route_label == "/workflows/{id}/runs" && req.method != "POST");
}

Outcome answer(const Response& resp, PayloadFormat format, bool head) {
  return Outcome{false, "", format_response(resp, format, head)};
}

}  // namespace

Handler::Handler(std::shared_ptr<const HandlerTarget> target, HandlerOptions options)
    : target_(std::move(target)), options_(options) {}

Outcome Handler::api_answer(const std::string& event, const std::string& request_id) const {
  RequestContext ctx{request_id, "", std::chrono::system_clock::now()};
  auto parsed = parse_event(event, options_.operation, options_.limits);
  if (!parsed) {
    Response resp = Response::error(parsed.error(), request_id);
    resp.with_header("X-Request-Id", request_id);
    return answer(resp, guess_format(event), false);
  }
  Request& req = parsed->request;
  std::optional<std::string> trusted;
  if (options_.trust_authorizer) trusted = parsed->authorizer_username.value_or("");
  auto started = std::chrono::steady_clock::now();
  RequestPipeline::Dispatch d = target_->pipeline.dispatch(req, ctx, trusted);
  if (d.route && target_->refresh_runs && reads_runs(req, d.route_label)) {
    if (auto st = target_->refresh_runs(); !st) {
      spdlog::warn("request {}: cannot import runs from the engine: {}", request_id, st.error().internal);
    }
  }
  Response resp = d.answer ? std::move(*d.answer) : RequestPipeline::call(*d.route, ctx, req);
  if (auto st = read_body(resp); !st) resp = Response::error(st.error(), request_id);
  target_->pipeline.decorate(resp, req, ctx);
  Outcome out = answer(resp, parsed->format, req.method == "HEAD");
  if (out.payload.size() > kMaxResponsePayload) {
    resp = Response::error({ErrorCode::kUpstreamFailed, "answer too large for Lambda",
                            "the answer is larger than a Lambda answer may be (6 MB)"},
                           request_id);
    target_->pipeline.decorate(resp, req, ctx);
    out = answer(resp, parsed->format, false);
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  // The server's access-log fields (never the query string or headers).
  spdlog::info("request {} {} {} -> {} in {:.1f} ms (user {})", request_id, req.method, d.route_label, resp.status, ms,
               ctx.username.empty() ? "-" : ctx.username);
  return out;
}

Outcome Handler::handle_now(const std::string& event, const std::string& request_id) const {
  if (!options_.authorizer) return api_answer(event, request_id);
  auto policy = authorize(event, target_->verify);
  if (policy) return Outcome{false, "", std::move(policy).value()};
  if (policy.error().code == ErrorCode::kUnauthenticated) {
    spdlog::info("request {}: authorizer refused: {}", request_id, policy.error().internal);
    return Outcome{true, std::string(kUnauthorized), std::string(kUnauthorized)};
  }
  spdlog::warn("request {}: authorizer event refused: {}", request_id, policy.error().internal);
  return Outcome{true, "InvalidEvent", policy.error().client};
}

Outcome Handler::handle(std::string event, const std::string& request_id, SystemTime deadline) {
  auto respond_by = deadline - options_.deadline_margin;
  PayloadFormat format = guess_format(event);
  auto refuse = [&](ErrorCode code, const char* internal, const char* client) {
    Response resp = Response::error({code, internal, client}, request_id);
    resp.with_header("X-Request-Id", request_id);
    if (code == ErrorCode::kUnavailable) resp.with_header("Retry-After", "1");
    if (options_.authorizer) return Outcome{true, "Timeout", client};
    return answer(resp, format, false);
  };
  if (overdue_->load() >= options_.max_overdue) {
    return refuse(ErrorCode::kUnavailable, "too many requests still running past their deadline",
                  "server busy, retry later");
  }
  // The work runs on its own thread so that this one can answer at the deadline; a
  // request still running then finishes in the background with everything it uses kept
  // alive by the task (the handler's target, hence the app).
  auto task = std::make_shared<std::packaged_task<Outcome()>>(
      [self = *this, event = std::move(event), request_id]() { return self.handle_now(event, request_id); });
  std::future<Outcome> result = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (result.wait_until(respond_by) == std::future_status::ready) {
    try {
      return result.get();
    } catch (const std::exception& e) {  // the handlers' own throws are caught in the pipeline
      spdlog::error("request {}: invocation failed: {}", request_id, e.what());
      return Outcome{true, "Runtime.UnhandledError", "internal error"};
    }
  }
  spdlog::warn("request {}: not answered {} ms before the deadline; answering 504", request_id,
               options_.deadline_margin.count());
  ++*overdue_;
  // The straggler lowers the count when it ends.
  std::thread([result = std::move(result), overdue = overdue_]() mutable {
    result.wait();
    --*overdue;
  }).detach();
  return refuse(ErrorCode::kUpstreamTimeout, "deadline", "the request did not finish in time");
}

}  // namespace scigate::lambda
