#include "app/cli.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/app.h"
#include "app/lambda_main.h"
#include "app/logging.h"
#include "auth/jwt.h"
#include "awsconfig/config_source.h"
#include "core/duration.h"
#include "core/time_util.h"
#include "credentials/credentials_provider.h"
#include "engine/airflow_sync.h"
#include "engine/engine_factory.h"
#include "engine/step_supervisor.h"
#include "ledger/ledger_factory.h"

namespace scigate {

namespace {

constexpr const char* kUsage = R"(scigate: a science gateway (workflows, data selections, outputs)

Usage: scigate <command> [options]

Commands:
  serve         run the HTTP server
  check-config  validate a config file and print every problem
  token         mint an HS256 token for local use
  credentials   credentials check: fetch each provider's credentials once
  ledger        ledger sync: import runs started directly in Airflow
  lambda        run as an AWS Lambda function (custom runtime)
  invoke        run one Lambda event locally and print the answer
  version       print the version

Run 'scigate <command> --help' for a command's options.
)";

constexpr const char* kServeUsage = R"(Usage: scigate serve [--config FILE|ssm:/NAME]

Runs the server until SIGTERM or SIGINT. The config comes from --config or the
SCIGATE_CONFIG environment variable: a file, or an SSM parameter (ssm:/NAME).
)";

constexpr const char* kCheckUsage = R"(Usage: scigate check-config [--config FILE]

Loads and validates the config; prints each problem as FILE:LINE: KEY.PATH: REASON.
Exit status 0 when valid, 1 when not.
)";

constexpr const char* kTokenUsage = R"(Usage: scigate token --secret-env VAR --user NAME [--ttl 1h] [--config FILE]

Prints an HS256 JWT for NAME signed with the secret in environment variable VAR. With a
config (--config or SCIGATE_CONFIG), its auth.jwt issuer and audience are used.
)";

// --name value pairs and bare flags; unknown options are errors.
struct Args {
  std::map<std::string, std::string> values;
  bool help = false;
  std::string error;
  bool flag(const std::string& name) const { return values.count(name) > 0; }
};

// Options that take no value (their presence is the setting).
const std::vector<std::string> kFlags = {"--authorizer", "--trust-authorizer"};

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& known) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      a.help = true;
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      a.error = "unknown option " + name;
      return a;
    }
    bool is_flag = std::find(kFlags.begin(), kFlags.end(), name) != kFlags.end();
    if (is_flag && has_value) {
      a.error = name + " takes no value";
      return a;
    }
    if (!has_value && !is_flag) {
      if (i + 1 >= argc) {
        a.error = name + " needs a value";
        return a;
      }
      value = argv[++i];
    }
    a.values[name.substr(2)] = value;
  }
  return a;
}

// --config, SCIGATE_CONFIG, or the seed's parameter (awsconfig/config_source.h).
std::optional<std::string> config_path(const Args& a) {
  return config_spec(a.values.count("config") ? std::optional<std::string>(a.values.at("config")) : std::nullopt);
}

// A file or ssm:/name, with aws-secretsmanager: secrets; problems go to stderr.
std::optional<Config> load_or_report(const std::string& spec) {
  auto loaded = load_config_spec(spec);
  if (!loaded) {
    std::string text = loaded.error().internal;
    std::cerr << text << (text.empty() || text.back() != '\n' ? "\n" : "");
    return std::nullopt;
  }
  return std::move(loaded->config);
}

// The config a command must have: from --config or SCIGATE_CONFIG, loaded and valid.
std::optional<Config> required_config(const Args& a, const char* command) {
  auto path = config_path(a);
  if (!path) {
    std::cerr << "scigate " << command << ": no config (use --config FILE or ssm:/NAME, or SCIGATE_CONFIG)\n";
    return std::nullopt;
  }
  return load_or_report(*path);
}

int cmd_serve(const Args& a) {
  auto config = required_config(a, "serve");
  if (!config) return 2;
  setup_logging(config->server.log_level);
  auto app = App::create(std::move(*config));
  if (!app) {
    spdlog::critical("cannot start: {}", app.error().internal);
    return 1;
  }
  if (auto st = (*app)->listen(); !st) {
    spdlog::critical("{}", st.error().internal);
    return 1;
  }
  return (*app)->run();
}

int cmd_check(const Args& a) {
  auto config = required_config(a, "check-config");
  if (!config) return 1;
  std::cout << config->file.string() << ": OK (" << config->engine.type() << " engine, " << config->collections.size()
            << " collections, " << config->workflows.size() << " workflows, " << config->providers.size()
            << " providers)\n";
  return 0;
}

constexpr const char* kCredentialsUsage = R"(Usage: scigate credentials check [--config FILE]

Fetches the credentials of every `type: s3` provider once and prints, per provider, the
source and whether it worked (never a key, secret or token). Exit 1 if any failed.
)";

int cmd_credentials_check(const Args& a) {
  auto config = required_config(a, "credentials check");
  if (!config) return 1;
  setup_logging("warn");
  auto credentials = make_provider_credentials(*config);
  if (!credentials) {
    std::cerr << credentials.error().internal << "\n";
    return 1;
  }
  int failed = 0;
  for (const auto& [name, provider] : *credentials) {
    auto creds = provider->current();
    std::cout << name << ": " << provider->describe() << ": ";
    if (!creds) {
      std::cout << "FAILED: " << creds.error().client << "\n";
      ++failed;
      continue;
    }
    std::cout << "ok, access key " << (*creds)->access_key_id.substr(0, 4) << "…";
    if ((*creds)->expiration) {
      auto left =
          std::chrono::duration_cast<std::chrono::seconds>(*(*creds)->expiration - std::chrono::system_clock::now());
      std::cout << ", expires in " << left.count() << "s";
    }
    std::cout << "\n";
  }
  if (credentials->empty()) std::cout << "no s3 providers configured\n";
  return failed ? 1 : 0;
}

constexpr const char* kLedgerSyncUsage = R"(Usage: scigate ledger sync --since DATE [--config FILE]

Imports into the ledger every Airflow DAG run since DATE (2026-01-31 or an ISO 8601
time) whose conf has a `username`, so its owner sees it in their run listings. Runs the
ledger already has are left as they are. Needs `engine.type: airflow`.
)";

int cmd_ledger_sync(const Args& a) {
  auto config = required_config(a, "ledger sync");
  if (!config) return 1;
  if (!a.values.count("since")) {
    std::cerr << kLedgerSyncUsage;
    return 2;
  }
  std::string since_text = a.values.at("since");
  auto since = parse_iso8601(since_text.size() == 10 ? since_text + "T00:00:00Z" : since_text);
  if (!since) {
    std::cerr << "scigate ledger sync: --since must be a date like 2026-01-31 or 2026-01-31T12:00:00Z\n";
    return 2;
  }
  setup_logging("warn");
  auto conn = connect_airflow(config->engine);
  if (!conn) {
    std::cerr << "scigate ledger sync: " << conn.error().internal << "\n";
    return 1;
  }
  auto ledger = open_ledger(config->ledger);
  if (!ledger) {
    std::cerr << "scigate ledger sync: " << ledger.error().internal << "\n";
    return 1;
  }
  auto report = sync_ledger(*conn->client, *config, **ledger, *since);
  if (!report) {
    std::cerr << "scigate ledger sync: " << report.error().internal << "\n";
    return 1;
  }
  std::cout << "DAG runs since " << format_iso8601(*since) << ": " << report->seen << "\n"
            << "imported: " << report->imported << "\n"
            << "already in the ledger: " << report->known << "\n"
            << "without conf.username: " << report->no_user << "\n"
            << "unusable run id or username: " << report->unusable << "\n";
  return 0;
}

constexpr const char* kLambdaUsage =
    R"(Usage: scigate lambda [--config SPEC] [--operation NAME] [--authorizer] [--trust-authorizer]

Runs as an AWS Lambda function (a custom runtime: the bootstrap of the Lambda package
runs this), answering API Gateway events (REST API v1, HTTP API v2, function URLs) with
the server's routes and handlers. Each option can also come from the function's
environment: SCIGATE_CONFIG, SCIGATE_OPERATION (the seed's one function per operation:
listworkflows, describeworkflow, createrun, listruns, browseoutputs, updateoutput, ...;
"authorizer" for the authorizer), SCIGATE_TRUST_AUTHORIZER=true (the caller is API
Gateway's requestContext.authorizer.username instead of a verified token).
)";

constexpr const char* kInvokeUsage =
    R"(Usage: scigate invoke --event FILE [--operation NAME] [--authorizer] [--trust-authorizer]
                      [--timeout 30s] [--config SPEC]

Runs one Lambda event (FILE, or - for stdin) as `scigate lambda` would and prints the
Lambda answer (JSON) on stdout. Exit 1 when the function fails (e.g. the authorizer
refuses a token: {"errorMessage": "Unauthorized", ...}).
)";

LambdaCommand lambda_command(const Args& a) {
  LambdaCommand c;
  if (a.values.count("config")) c.config_spec = a.values.at("config");
  if (a.values.count("operation")) c.operation = a.values.at("operation");
  c.authorizer = a.flag("authorizer");
  if (a.flag("trust-authorizer")) c.trust_authorizer = true;
  return c;
}

int cmd_lambda(const Args& a) { return run_lambda(lambda_command(a)); }

int cmd_invoke(const Args& a) {
  if (!a.values.count("event")) {
    std::cerr << kInvokeUsage;
    return 2;
  }
  auto timeout = parse_duration(a.values.count("timeout") ? a.values.at("timeout") : "30s");
  if (!timeout || timeout->count() <= 0) {
    std::cerr << "scigate invoke: --timeout must be a duration like 3s or 1m\n";
    return 2;
  }
  return run_invoke(lambda_command(a), a.values.at("event"),
                    std::chrono::duration_cast<std::chrono::milliseconds>(*timeout));
}

int cmd_token(const Args& a) {
  if (!a.values.count("secret-env") || !a.values.count("user")) {
    std::cerr << kTokenUsage;
    return 2;
  }
  const char* secret = std::getenv(a.values.at("secret-env").c_str());
  if (secret == nullptr || *secret == '\0') {
    std::cerr << "scigate token: environment variable " << a.values.at("secret-env") << " is not set\n";
    return 2;
  }
  auto ttl = parse_duration(a.values.count("ttl") ? a.values.at("ttl") : "1h");
  if (!ttl || ttl->count() <= 0) {
    std::cerr << "scigate token: --ttl must be a duration like 30m or 1h\n";
    return 2;
  }
  boost::json::object claims;
  if (auto path = config_path(a)) {
    auto config = load_or_report(*path);
    if (!config) return 2;
    if (!config->jwt.issuer.empty()) claims["iss"] = config->jwt.issuer;
    if (!config->jwt.audience.empty()) claims["aud"] = config->jwt.audience;
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  claims["sub"] = a.values.at("user");
  claims["username"] = a.values.at("user");
  claims["iat"] = now.count();
  claims["exp"] = (now + std::chrono::duration_cast<std::chrono::seconds>(*ttl)).count();
  std::cout << mint_hs_token(claims, secret) << "\n";
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  // Not a user command: the local engine re-executes scigate as each step's supervisor.
  if (cmd == kStepSupervisorCommand) return run_step_supervisor(argc - 2, argv + 2);
  // Two-word commands: "credentials check", "ledger sync".
  struct SubCommand {
    const char* usage;
    const char* word;
    std::vector<std::string> options;
    int (*fn)(const Args&);
  };
  static const std::map<std::string, SubCommand> kSubCommands{
      {"credentials", {kCredentialsUsage, "check", {"--config"}, cmd_credentials_check}},
      {"ledger", {kLedgerSyncUsage, "sync", {"--config", "--since"}, cmd_ledger_sync}},
  };
  if (auto sub = kSubCommands.find(cmd); sub != kSubCommands.end()) {
    const SubCommand& c = sub->second;
    if (argc < 3 || std::string(argv[2]) == "--help" || std::string(argv[2]) == "-h") {
      std::cout << c.usage;
      return argc < 3 ? 2 : 0;
    }
    if (std::string(argv[2]) != c.word) {
      std::cerr << "scigate " << cmd << ": unknown subcommand '" << argv[2] << "'\n\n" << c.usage;
      return 2;
    }
    Args args = parse_args(argc, argv, 3, c.options);
    if (args.help) {
      std::cout << c.usage;
      return 0;
    }
    if (!args.error.empty()) {
      std::cerr << "scigate " << cmd << " " << c.word << ": " << args.error << "\n";
      return 2;
    }
    return c.fn(args);
  }
  struct Command {
    const char* usage;
    std::vector<std::string> options;
    int (*fn)(const Args&);
  };
  static const std::map<std::string, Command> kCommands{
      {"serve", {kServeUsage, {"--config"}, cmd_serve}},
      {"check-config", {kCheckUsage, {"--config"}, cmd_check}},
      {"lambda", {kLambdaUsage, {"--config", "--operation", "--authorizer", "--trust-authorizer"}, cmd_lambda}},
      {"invoke",
       {kInvokeUsage,
        {"--event", "--operation", "--authorizer", "--trust-authorizer", "--timeout", "--config"},
        cmd_invoke}},
      {"token", {kTokenUsage, {"--secret-env", "--user", "--ttl", "--config"}, cmd_token}},
      {"version",
       {"Usage: scigate version\n",
        {},
        [](const Args&) {
          std::cout << "scigate " << SCIGATE_VERSION << "\n";
          return 0;
        }}},
  };
  auto it = kCommands.find(cmd);
  if (it == kCommands.end()) {
    std::cerr << "scigate: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
  }
  Args args = parse_args(argc, argv, 2, it->second.options);
  if (args.help) {
    std::cout << it->second.usage;
    return 0;
  }
  if (!args.error.empty()) {
    std::cerr << "scigate " << cmd << ": " << args.error << "\n\n" << it->second.usage;
    return 2;
  }
  return it->second.fn(args);
}

}  // namespace scigate
