// The Lambda Runtime API client (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
// the loop of a custom runtime asks for the next invocation, then posts its answer or its
// error; a runtime that cannot start posts an init error. Blocking; one caller.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "core/time_util.h"
#include "http_client/upstream.h"

namespace scigate::lambda {

struct Invocation {
  std::string request_id;  // Lambda-Runtime-Aws-Request-Id
  SystemTime deadline;     // Lambda-Runtime-Deadline-Ms: Lambda stops the function then
  std::string function_arn;
  std::string trace_id;
  std::string event;  // the payload, as sent
};

class RuntimeClient {
 public:
  // `api`: host:port, the value of AWS_LAMBDA_RUNTIME_API.
  explicit RuntimeClient(std::string api);

  // Waits (long poll) for the next invocation. kUpstreamFailed when the answer lacks a
  // request id; transport failures as UpstreamClient reports them.
  Result<Invocation> next() const;
  Status respond(const std::string& request_id, const std::string& payload) const;
  // errorType and errorMessage, as a function error of that type.
  Status fail(const std::string& request_id, const std::string& error_type, const std::string& message) const;
  Status init_error(const std::string& error_type, const std::string& message) const;

 private:
  Status post(const std::string& path, const std::string& body, const std::string& error_type) const;

  std::string base_;  // http://host:port/2018-06-01/runtime
  std::unique_ptr<UpstreamClient> http_;
};

// The body Lambda expects for an error: {"errorMessage", "errorType"}.
std::string error_payload(const std::string& error_type, const std::string& message);

}  // namespace scigate::lambda
