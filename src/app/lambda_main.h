// `scigate lambda` (a Lambda custom runtime) and `scigate invoke` (one event, locally):
// the app built from the config as `serve` builds it, without the HTTP server, answering
// Lambda events through lambda::Handler.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace scigate {

struct LambdaCommand {
  std::optional<std::string> config_spec;  // --config or SCIGATE_CONFIG
  std::string operation;                   // --operation or SCIGATE_OPERATION; "" = route by path
  bool authorizer = false;                 // --authorizer, or operation "authorizer"
  // --trust-authorizer, or SCIGATE_TRUST_AUTHORIZER=true/false; unset: on in seed mode only.
  std::optional<bool> trust_authorizer;
};

// The Runtime API loop (AWS_LAMBDA_RUNTIME_API); returns only when initialisation fails
// or the Runtime API is gone.
int run_lambda(LambdaCommand command);
// Runs the event in `event_file` ("-": stdin) and prints the Lambda answer on stdout.
int run_invoke(LambdaCommand command, const std::string& event_file, std::chrono::milliseconds timeout);

}  // namespace scigate
