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
#include "awsconfig/config_source.h"
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
// How long initialisation waits for the engine's first answer (Airflow's DAG list):
// Lambda allows 10 s of init, and a first request answered 503 would be worse.
constexpr std::chrono::milliseconds kReadyWait{6'000};

std::string env_or(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

// What the command line leaves open comes from the function's environment, as a Lambda
// function is configured.
LambdaCommand with_environment(LambdaCommand c) {
  c.config_spec = config_spec(c.config_spec);  // --config, SCIGATE_CONFIG, or the seed's parameter
  if (c.operation.empty()) c.operation = env_or("SCIGATE_OPERATION");
  if (c.operation == "authorizer") {
    c.authorizer = true;
    c.operation.clear();
  }
  std::string trust = env_or("SCIGATE_TRUST_AUTHORIZER");
  if (!c.trust_authorizer && (trust == "true" || trust == "1")) c.trust_authorizer = true;
  if (!c.trust_authorizer && (trust == "false" || trust == "0")) c.trust_authorizer = false;
  return c;
}

Result<const lambda::Operation*> operation_of(const LambdaCommand& c) {
  if (c.operation.empty()) return static_cast<const lambda::Operation*>(nullptr);
  if (const lambda::Operation* op = lambda::find_operation(c.operation)) return op;
  std::string names;
  for (const auto& o : lambda::operations()) names += (names.empty() ? "" : ", ") + std::string(o.name);
  return Error::bad_request("unknown operation '" + c.operation + "' (SCIGATE_OPERATION / --operation): one of " +
                            names + ", authorizer");
}

// An app and the handler in front of it, built from one config.
struct Runtime {
  std::shared_ptr<App> app;
  std::unique_ptr<lambda::Handler> handler;
};

// Builds and starts the app and its handler. A failure's text names what is wrong,
// never a secret's value.
Result<Runtime> build(const LambdaCommand& c, LoadedConfig loaded) {
  auto op = operation_of(c);
  if (!op) return op.error();
  setup_logging(loaded.config.server.log_level);
  auto created = App::create(std::move(loaded.config));
  if (!created) return Error::bad_request("cannot start: " + created.error().internal);
  std::shared_ptr<App> app = std::move(created).value();
  // A Lambda is frozen between invocations: steps of the local engine could not run
  // there (and under the package's loader they cannot even start); runs it triggers wait
  // in the ledger for a scigate server on the same ledger.
  if (app->config().engine.local()) {
    spdlog::warn("local engine: this function queues runs; a scigate server on the same ledger runs them");
  }
  app->start(/*run_local_steps=*/false);
  if (!app->wait_until_ready(kReadyWait)) {
    spdlog::warn("the engine is not ready after {} ms; requests may answer 503 until it is", kReadyWait.count());
  }
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
  options.operation = *op;
  options.authorizer = c.authorizer;
  // The seed's functions took the caller from the authorizer's context: so does its drop-in.
  options.trust_authorizer = c.trust_authorizer.value_or(loaded.seed_mode);
  options.limits.max_body_bytes = app->config().server.max_body_bytes;
  return Runtime{std::move(app), std::make_unique<lambda::Handler>(std::move(target), options)};
}

// The config source and the first runtime built from it; the error names what is missing.
Result<std::pair<ConfigSource, Runtime>> initialise(const LambdaCommand& c) {
  if (auto op = operation_of(c); !op) return op.error();
  if (!c.config_spec) {
    return Error::bad_request(
        "no config: pass --config, set SCIGATE_CONFIG (a file or ssm:/parameter), or give the "
        "seed's environment (MWAA_ENV_NAME, ...)");
  }
  auto source = ConfigSource::from_environment(*c.config_spec);
  if (!source) return source.error();
  auto loaded = source->load();
  if (!loaded) return Error::bad_request("config " + *c.config_spec + ": " + loaded.error().internal);
  auto rt = build(c, std::move(loaded).value());
  if (!rt) return rt.error();
  return std::make_pair(std::move(source).value(), std::move(rt).value());
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
  auto init = initialise(c);
  if (!init) {
    spdlog::critical("scigate lambda: {}", init.error().internal);
    if (auto st = runtime.init_error("Runtime.InitError", init.error().internal); !st) {
      spdlog::error("cannot report the init error: {}", st.error().internal);
    }
    return 1;
  }
  auto& [source, rt] = *init;
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
    // The config is read again once its TTL has passed; a change rebuilds the app between
    // invocations (a request still running on the old one keeps it alive until it ends).
    if (auto reloaded = source.reload_if_changed(); !reloaded) {
      spdlog::error("config {}: reload failed, keeping the current one: {}", source.spec(), reloaded.error().internal);
    } else if (*reloaded) {
      auto next = build(c, std::move(**reloaded));
      if (!next) {
        spdlog::error("config {} changed but cannot be used, keeping the current one: {}", source.spec(),
                      next.error().internal);
      } else {
        spdlog::info("config {} changed: app rebuilt", source.spec());
        rt.app->stop();
        rt = std::move(next).value();
      }
    }
    lambda::Outcome out = rt.handler->handle(std::move(inv->event), inv->request_id, inv->deadline);
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
  auto init = initialise(c);
  if (!init) {
    std::cerr << "scigate invoke: " << init.error().internal << "\n";
    return 1;
  }
  Runtime& rt = init->second;
  lambda::Outcome out = rt.handler->handle(event.str(), "invoke-" + std::to_string(::getpid()),
                                           std::chrono::system_clock::now() + timeout);
  std::cout << (out.failed ? lambda::error_payload(out.error_type, out.payload) : out.payload) << std::endl;
  rt.app->stop();
  return out.failed ? 1 : 0;
}

}  // namespace scigate
