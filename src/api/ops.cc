// Operations endpoints: liveness, readiness, metrics, the OpenAPI document and its page.
#include "api/common.h"
#include "api/docs.h"
#include "api/embedded_docs.h"
#include "credentials/rotating.h"

namespace json = boost::json;

namespace scigate {
namespace api {

Response healthz(const ApiDeps&, const RequestContext&, const Request&) {
  return Response::json(200, json::object{{"status", "ok"}});
}

namespace {
std::string credential_state(CredentialsProvider& creds) {
  auto* rotating = dynamic_cast<RotatingCredentials*>(&creds);
  if (!rotating) return "ok (" + creds.describe() + ")";
  RotationState s = rotating->state();
  if (s.valid) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(*s.expiration - std::chrono::system_clock::now());
    return "ok (" + creds.describe() + ", expires in " + std::to_string(left.count()) + "s)";
  }
  if (!s.has_credentials && s.failures == 0) return "not fetched yet (" + creds.describe() + ")";
  return "unavailable (" + creds.describe() + "): " + s.last_error;
}
}  // namespace

// Ready when every backend answers: the ledger, the staging store and the engine.
Response readyz(const ApiDeps& d, const RequestContext& ctx, const Request&) {
  json::object checks;
  bool ready = true;
  auto record = [&](const char* name, const Error* err) {
    checks[name] = err ? json::value(json::string("unavailable: " + err->client)) : json::value("ok");
    if (err) ready = false;
  };
  auto ledger = d.ledger.get("readiness-probe");
  record("ledger", (!ledger && ledger.error().code != ErrorCode::kNotFound) ? &ledger.error() : nullptr);
  auto staging = d.staging.list({d.config.staging.bucket, d.config.staging.prefix, "/", "", 1});
  record("staging", staging ? nullptr : &staging.error());
  auto engine = d.engine.list_workflows();
  record("engine", engine ? nullptr : &engine.error());
  // Credential states are reported, not gating: one provider's outage must not take the
  // whole instance out of rotation (its requests get 503 on their own).
  json::object credentials;
  for (const auto& [name, creds] : d.credentials) credentials[name] = credential_state(*creds);
  if (!credentials.empty()) checks["credentials"] = std::move(credentials);
  return Response::json(ready ? 200 : 503, json::object{{"status", ready ? "ready" : "not ready"}, {"checks", checks}});
}

Response metrics(const ApiDeps& d, const RequestContext& ctx, const Request&) {
  std::string text = d.metrics.render();
  if (auto counts = d.ledger.count_by_state()) {
    text += "# HELP scigate_runs Runs in the ledger by state.\n# TYPE scigate_runs gauge\n";
    for (const auto& [state, n] : *counts)
      text += "scigate_runs{state=\"" + std::string(to_string(state)) + "\"} " + std::to_string(n) + "\n";
  }
  return Response::text(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

Response openapi(const ApiDeps&, const RequestContext&, const Request&) {
  return Response::text(200, std::string(openapi_document()), "application/json");
}

Response docs(const ApiDeps&, const RequestContext&, const Request&) {
  return Response::text(200, docs_html(), "text/html; charset=utf-8")
      .with_header("Content-Security-Policy", docs_csp())
      .with_header("Cache-Control", "no-cache");
}

}  // namespace api
}  // namespace scigate
