// One Lambda invocation, start to answer: an API Gateway event through the same request
// pipeline (router, authentication, handlers) as the server, or an authorizer event; the
// answer materialised (Lambda answers are buffered) and shaped for API Gateway. The
// deadline is kept: an answer that is not ready shortly before it becomes a 504, so that
// API Gateway shows an error of scigate's rather than Lambda killing the function.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/time_util.h"
#include "http/pipeline.h"
#include "lambda/events.h"

namespace scigate::lambda {

struct HandlerOptions {
  const Operation* operation = nullptr;  // the seed's one function per operation; null: route by path
  bool authorizer = false;               // answer authorizer events instead
  bool trust_authorizer = false;         // the caller is requestContext.authorizer.username
  EventLimits limits;
  // How long before the deadline a request still running is answered 504.
  std::chrono::milliseconds deadline_margin{250};
  // Requests past their deadline that are still running (they finish in the background);
  // beyond this many, new invocations answer 503 at once instead of piling up.
  int max_overdue = 8;
};

// What the runtime posts: an answer, or a function error of `error_type`.
struct Outcome {
  bool failed = false;
  std::string error_type;  // when failed: "Unauthorized" for the authorizer's refusal
  std::string payload;     // the answer JSON, or the error message
};

// Everything one invocation needs; shared with a request that outlives its deadline, so
// that it finishes safely after the loop has moved on.
struct HandlerTarget {
  std::shared_ptr<const void> owner;  // keeps `pipeline` (and what its handlers use) alive
  const RequestPipeline& pipeline;
  Authenticator verify;  // the authorizer's token check (the server's rules)
  // Called before a request that lists or reads runs, when the ledger is this function's
  // own copy and runs other functions started must be brought in first (App::import_engine_runs).
  std::function<Status()> refresh_runs;
};

class Handler {
 public:
  Handler(std::shared_ptr<const HandlerTarget> target, HandlerOptions options);
  // `request_id`: Lambda's, used as scigate's request id (one id in both logs).
  Outcome handle(std::string event, const std::string& request_id, SystemTime deadline);
  // The same without a deadline, on the calling thread (tests, fuzzing).
  Outcome handle_now(const std::string& event, const std::string& request_id) const;

 private:
  Outcome api_answer(const std::string& event, const std::string& request_id) const;

  std::shared_ptr<const HandlerTarget> target_;
  HandlerOptions options_;
  std::shared_ptr<std::atomic<int>> overdue_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace scigate::lambda
