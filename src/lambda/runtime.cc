#include "lambda/runtime.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/json_util.h"

namespace scigate::lambda {

namespace {

// Posting an answer is a local call; it only waits when Lambda itself is in trouble.
constexpr std::chrono::milliseconds kPostTimeout{10'000};

}  // namespace

std::string error_payload(const std::string& error_type, const std::string& message) {
  return to_json_text(boost::json::object{{"errorMessage", message}, {"errorType", error_type}});
}

RuntimeClient::RuntimeClient(std::string api)
    : base_("http://" + api + "/2018-06-01/runtime"),
      // The long poll of next() carries no bytes while it waits: no stall limit there.
      http_(std::make_unique<UpstreamClient>(
          UpstreamOptions{std::chrono::milliseconds(2'000), std::chrono::seconds(24 * 3600), 2})) {}

Result<Invocation> RuntimeClient::next() const {
  UpstreamRequest req;
  req.url = base_ + "/invocation/next";
  req.timeout = std::chrono::milliseconds(0);  // waits for as long as no event comes
  auto resp = http_->send(req);
  if (!resp) return resp.error();
  if (resp->status != 200) {
    return Error{ErrorCode::kUpstreamFailed, "runtime API next: status " + std::to_string(resp->status),
                 "runtime API failed"};
  }
  Invocation inv;
  inv.request_id = resp->header("lambda-runtime-aws-request-id");
  if (inv.request_id.empty()) {
    return Error{ErrorCode::kUpstreamFailed, "runtime API next: no request id", "runtime API failed"};
  }
  std::string deadline = resp->header("lambda-runtime-deadline-ms");
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(deadline.data(), deadline.data() + deadline.size(), ms);
  // Without a usable deadline, Lambda's longest timeout (15 min) bounds the invocation.
  inv.deadline = ec == std::errc() && end == deadline.data() + deadline.size() && ms > 0
                     ? SystemTime(std::chrono::milliseconds(ms))
                     : std::chrono::system_clock::now() + std::chrono::minutes(15);
  inv.function_arn = resp->header("lambda-runtime-invoked-function-arn");
  inv.trace_id = resp->header("lambda-runtime-trace-id");
  inv.event = std::move(resp->body);
  return inv;
}

Status RuntimeClient::post(const std::string& path, const std::string& body, const std::string& error_type) const {
  UpstreamRequest req;
  req.method = "POST";
  req.url = base_ + path;
  req.body = body;
  req.timeout = kPostTimeout;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!error_type.empty()) req.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
  auto resp = http_->send(req);
  if (!resp) return resp.error();
  if (resp->status != 202) {
    return Error{ErrorCode::kUpstreamFailed, "runtime API " + path + ": status " + std::to_string(resp->status),
                 "runtime API failed"};
  }
  return ok_status();
}

Status RuntimeClient::respond(const std::string& request_id, const std::string& payload) const {
  return post("/invocation/" + request_id + "/response", payload, "");
}

Status RuntimeClient::fail(const std::string& request_id, const std::string& error_type,
                           const std::string& message) const {
  return post("/invocation/" + request_id + "/error", error_payload(error_type, message), error_type);
}

Status RuntimeClient::init_error(const std::string& error_type, const std::string& message) const {
  return post("/init/error", error_payload(error_type, message), error_type);
}

}  // namespace scigate::lambda
