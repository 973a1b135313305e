#include "http/pipeline.h"

#include <spdlog/spdlog.h>

#include <random>

namespace scigate {

// Request ids must be unique, not unpredictable: a per-thread splitmix64 seeded once from
// the OS, rather than the CSPRNG on every request (it showed in the profile).
std::string new_request_id() {
  thread_local uint64_t state = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, z >>= 4) id[static_cast<size_t>(i)] = kHex[z & 15];
  return id;
}

bool RequestPipeline::origin_allowed(const std::string& origin) const {
  if (origin.empty()) return false;
  for (const auto& a : cors_) {
    if (a == "*" || a == origin) return true;
  }
  return false;
}

RequestPipeline::Dispatch RequestPipeline::dispatch(Request& req, RequestContext& ctx,
                                                    const std::optional<std::string>& trusted_username) const {
  Dispatch d;
  RouteMatch m = router_.match(req);
  if (req.method == "OPTIONS" && m.path_known) {
    d.route_label = "preflight";
    d.answer = preflight(req, m);
    return d;
  }
  if (!m.route) {
    if (!m.path_known) {
      d.answer = Response::error(Error::not_found("no such endpoint"), ctx.request_id);
    } else {
      d.answer = Response::error({ErrorCode::kMethodNotAllowed, "method", "method not allowed"}, ctx.request_id)
                     .with_header("Allow", m.allowed_methods);
    }
    return d;
  }
  d.route_label = m.route->pattern;
  bool token_given = !req.header("authorization").empty();
  if (trusted_username) {
    if (m.route->auth == Auth::kRequired && trusted_username->empty()) {
      d.answer = Response::error(
          {ErrorCode::kUnauthenticated, "no username in the authorizer context", "authentication required"},
          ctx.request_id);
      return d;
    }
    if (m.route->auth != Auth::kNone) ctx.username = *trusted_username;
  } else if (m.route->auth == Auth::kRequired || (m.route->auth == Auth::kOptional && token_given)) {
    auto user = authenticate_(req.header("authorization"));
    if (!user) {
      d.answer = Response::error(user.error(), ctx.request_id);
      return d;
    }
    ctx.username = std::move(user).value();
  }
  d.route = m.route;
  return d;
}

Response RequestPipeline::preflight(const Request& req, const RouteMatch& m) const {
  Response r = Response::text(204, "");
  r.content_type.clear();
  r.with_header("Allow", m.allowed_methods + ", OPTIONS");
  if (origin_allowed(req.header("origin"))) {
    r.with_header("Access-Control-Allow-Methods", m.allowed_methods + ", OPTIONS")
        .with_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Range")
        .with_header("Access-Control-Max-Age", "600");
  }
  return r;
}

Response RequestPipeline::call(const Route& route, const RequestContext& ctx, const Request& req) {
  try {
    return route.handler(ctx, req);
  } catch (const std::exception& e) {
    spdlog::error("request {}: handler for {} threw: {}", ctx.request_id, route.pattern, e.what());
  } catch (...) {
    spdlog::error("request {}: handler for {} threw", ctx.request_id, route.pattern);
  }
  return Response::error(Error::internal_error("handler threw"), ctx.request_id);
}

void RequestPipeline::decorate(Response& resp, const Request& req, const RequestContext& ctx) const {
  resp.with_header("X-Request-Id", ctx.request_id);
  std::string origin = req.header("origin");
  if (origin_allowed(origin)) {
    resp.with_header("Access-Control-Allow-Origin", origin)
        .with_header("Vary", "Origin")
        .with_header("Access-Control-Expose-Headers", "X-Request-Id, Content-Range");
  }
}

}  // namespace scigate
