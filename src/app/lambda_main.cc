#include "app/lambda_main.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/app.h"
#include "app/logging.h"
#include "catalog/config_loader.h"
#include "lambda/handler.h"
#include "lambda/runtime.h"

namespace scigate {

namespace {

// Consecutive failed calls to the Runtime API after which the runtime gives up: Lambda
// itself answers at once, so repeated failures mean the environment is going away.
constexpr int kRuntimeFailuresToExit = 5;
// A function whose ledger is its own copy asks Airflow for runs started elsewhere at most
// this often: a run another function started this recently may not show yet.
constexpr std::chrono::milliseconds kImportInterval{1'000};

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

// What the command line leaves open comes from the function's environment, as a Lambda
// function is configured.
LambdaCommand with_environment(LambdaCommand c) {
  if (!c.config_spec) {
    if (auto spec = env_or("SCIGATE_CONFIG"); !spec.empty()) c.config_spec = spec;
  }
  if (c.operation.empty()) c.operation = env_or("SCIGATE_OPERATION");
  if (c.operation == "authorizer") {
    c.authorizer = true;
    c.operation.clear();
  }
  std::string trust = env_or("SCIGATE_TRUST_AUTHORIZER");
  if (trust == "true" || trust == "1") c.trust_authorizer = true;
  return c;
}

// An app and the handler in front of it, built from one config.
struct Runtime {
  std::shared_ptr<App> app;
  std::unique_ptr<lambda::Handler> handler;
};

// Builds the app and its handler. A failure's text names what is wrong (a missing file,
// parameter or secret, a bad key), never a secret's value.
Result<Runtime> build(const LambdaCommand& c) {
  const lambda::Operation* op = nullptr;
  if (!c.operation.empty()) {
    op = lambda::find_operation(c.operation);
    if (!op) {
      std::string names;
      for (const auto& o : lambda::operations()) names += (names.empty() ? "" : ", ") + std::string(o.name);
      return Error::bad_request("unknown operation '" + c.operation + "' (SCIGATE_OPERATION / --operation): one of " +
                                names + ", authorizer");
    }
  }
  if (!c.config_spec) return Error::bad_request("no config: set SCIGATE_CONFIG or pass --config");
  ConfigLoad load = load_config_file(*c.config_spec);
  if (!load.problems.empty())
    return Error::bad_request("config " + *c.config_spec + ":\n" + load.describe(*c.config_spec));
  setup_logging(load.config->server.log_level);
  auto created = App::create(std::move(*load.config));
  if (!created) return Error::bad_request("cannot start: " + created.error().internal);
  std::shared_ptr<App> app = std::move(created).value();
  app->start();
  const App* raw = app.get();
  std::function<Status()> refresh_runs;
  if (app->ledger_is_private_copy()) {
    App* mut = app.get();
    refresh_runs = [mut] { return mut->import_engine_runs(kImportInterval); };
  }
  auto target = std::make_shared<lambda::HandlerTarget>(lambda::HandlerTarget{
      app, app->pipeline(), [raw](std::string_view authorization) { return raw->authenticate(authorization); },
      std::move(refresh_runs)});
  lambda::HandlerOptions options;
  options.operation = op;
  options.authorizer = c.authorizer;
  options.trust_authorizer = c.trust_authorizer;
  options.limits.max_body_bytes = app->config().server.max_body_bytes;
  return Runtime{std::move(app), std::make_unique<lambda::Handler>(std::move(target), options)};
}

}  // namespace

int run_lambda(LambdaCommand command) {
  setup_logging("info");
  std::string api = env_or("AWS_LAMBDA_RUNTIME_API");
  if (api.empty()) {
    std::cerr << "scigate lambda: AWS_LAMBDA_RUNTIME_API is not set (this runs inside AWS Lambda; to run one event "
                 "locally, use scigate invoke --event FILE)\n";
    return 2;
  }
  lambda::RuntimeClient runtime(api);
  LambdaCommand c = with_environment(std::move(command));
  auto rt = build(c);
  if (!rt) {
    spdlog::critical("scigate lambda: {}", rt.error().client);
    if (auto st = runtime.init_error("Runtime.InitError", rt.error().client); !st) {
      spdlog::error("cannot report the init error: {}", st.error().internal);
    }
    return 1;
  }
  std::string mode = c.authorizer ? "authorizer" : c.operation.empty() ? "routing by path" : "operation " + c.operation;
  spdlog::info("scigate lambda ready ({})", mode);
  int failures = 0;
  while (true) {
    auto inv = runtime.next();
    if (!inv) {
      spdlog::error("runtime API: {}", inv.error().internal);
      if (++failures >= kRuntimeFailuresToExit) return 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * failures));
      continue;
    }
    failures = 0;
    lambda::Outcome out = rt->handler->handle(std::move(inv->event), inv->request_id, inv->deadline);
    Status posted = out.failed ? runtime.fail(inv->request_id, out.error_type, out.payload)
                               : runtime.respond(inv->request_id, out.payload);
    if (!posted) spdlog::error("request {}: cannot post the answer: {}", inv->request_id, posted.error().internal);
  }
}

int run_invoke(LambdaCommand command, const std::string& event_file, std::chrono::milliseconds timeout) {
  setup_logging("warn");
  std::stringstream event;
  if (event_file == "-") {
    event << std::cin.rdbuf();
  } else {
    std::ifstream in(event_file, std::ios::binary);
    if (!in) {
      std::cerr << "scigate invoke: cannot read " << event_file << "\n";
      return 2;
    }
    event << in.rdbuf();
  }
  LambdaCommand c = with_environment(std::move(command));
  auto rt = build(c);
  if (!rt) {
    std::cerr << "scigate invoke: " << rt.error().client << "\n";
    return 1;
  }
  lambda::Outcome out = rt->handler->handle(event.str(), "invoke-" + std::to_string(::getpid()),
                                            std::chrono::system_clock::now() + timeout);
  std::cout << (out.failed ? lambda::error_payload(out.error_type, out.payload) : out.payload) << std::endl;
  rt->app->stop();
  return out.failed ? 1 : 0;
}

}  // namespace scigate
