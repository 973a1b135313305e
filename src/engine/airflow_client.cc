#include "engine/airflow_client.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "core/json_util.h"
#include "core/key_path.h"
#include "core/time_util.h"
#include "engine/airflow_auth.h"

namespace json = boost::json;

namespace scigate {

namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// MWAA's InvokeRestApi gives up on Airflow after this long.
constexpr milliseconds kInvokeRestApiLimit{10'000};

milliseconds remaining(Steady::time_point deadline) {
  return std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
}

std::string encoded_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    out += (out.empty() ? "?" : "&") + percent_encode(k, false) + "=" + percent_encode(v, false);
  }
  return out;
}

// Sends the request itself with the auth mode's header; after a 401 it logs in once more.
class DirectTransport final : public AirflowTransport {
 public:
  DirectTransport(const AirflowEngineConfig& config, std::shared_ptr<UpstreamClient> http,
                  std::unique_ptr<AirflowAuth> auth)
      : url_(config.url), api_("/api/" + config.api), http_(std::move(http)), auth_(std::move(auth)) {}

  Result<UpstreamResponse> exchange(const AirflowCall& call, milliseconds budget) override {
    auto deadline = Steady::now() + budget;
    for (int attempt = 0;; ++attempt) {
      auto field = auth_->header(std::max(milliseconds(1), remaining(deadline)));
      if (!field) return field.error();
      UpstreamRequest req;
      req.method = call.method;
      req.url = (url_.empty() ? auth_->origin() : url_) + api_ + call.path + encoded_query(call.query);
      req.headers.emplace_back("Accept", "application/json");
      if (call.body) {
        req.headers.emplace_back("Content-Type", "application/json");
        req.body = json::serialize(*call.body);
      }
      if (!field->first.empty()) req.headers.push_back(*field);
      req.timeout = std::max(milliseconds(1), remaining(deadline));
      auto r = http_->send(req);
      if (!r || r->status != 401 || attempt > 0 || !auth_->refused(*field)) return r;
      spdlog::info("airflow: credentials refused (401), logging in again");
    }
  }

 private:
  std::string url_;
  std::string api_;
  std::shared_ptr<UpstreamClient> http_;
  std::unique_ptr<AirflowAuth> auth_;
};

// MWAA InvokeRestApi: POST /restapi/{env} {Path, Method, QueryParameters, Body}, signed
// with SigV4; the answer wraps Airflow's: {RestApiStatusCode, RestApiResponse}.
class MwaaInvokeTransport final : public AirflowTransport {
 public:
  MwaaInvokeTransport(const AirflowEngineConfig& config, std::shared_ptr<UpstreamClient> http,
                      std::shared_ptr<CredentialsProvider> aws)
      : url_(config.auth.mwaa_endpoint + "/restapi/" + percent_encode(config.auth.environment)),
        http_(std::move(http)),
        aws_(std::move(aws)),
        signer_(config.auth.region, "airflow") {}

  Result<UpstreamResponse> exchange(const AirflowCall& call, milliseconds budget) override {
    json::object query;
    for (const auto& [k, v] : call.query) query[k] = v;
    json::object body{{"Path", call.path}, {"Method", call.method}, {"QueryParameters", std::move(query)}};
    if (call.body) body["Body"] = *call.body;
    auto req = signed_mwaa_post(url_, json::serialize(body), *aws_, signer_, std::min(budget, kInvokeRestApiLimit));
    if (!req) return req.error();
    auto r = http_->send(*req);
    if (!r) return r;
    auto parsed = parse_json(r->body);
    const json::object* o = parsed && parsed->is_object() ? &parsed->get_object() : nullptr;
    const json::value* code = o ? o->if_contains("RestApiStatusCode") : nullptr;
    if (code && code->is_int64()) {
      // Airflow answered (also inside MWAA's RestApiClientException/RestApiServerException).
      const json::value* inner = o->if_contains("RestApiResponse");
      return UpstreamResponse{static_cast<int>(code->as_int64()), {}, inner ? json::serialize(*inner) : ""};
    }
    if (r->status == 429 || r->status >= 500) return UpstreamResponse{503, {}, ""};  // MWAA busy: retryable
    return Error{ErrorCode::kUpstreamFailed,
                 "MWAA InvokeRestApi answered " + std::to_string(r->status) + " " + r->header("x-amzn-errortype"),
                 "workflow engine refused the request"};
  }

 private:
  std::string url_;
  std::shared_ptr<UpstreamClient> http_;
  std::shared_ptr<CredentialsProvider> aws_;
  SigV4Signer signer_;
};

Error as_engine_error(const Error& e, const AirflowCall& call) {
  Error out = e;
  out.internal = "airflow " + call.method + " " + call.path + ": " + e.internal;
  switch (e.code) {
    case ErrorCode::kUpstreamTimeout:
      out.client = "workflow engine timed out";
      break;
    case ErrorCode::kUnavailable:  // Airflow down is Airflow failing, not scigate overloaded
      out.code = ErrorCode::kUpstreamFailed;
      out.client = "workflow engine unreachable";
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

AirflowClient::AirflowClient(const AirflowEngineConfig& config, std::unique_ptr<AirflowTransport> transport)
    : transport_(std::move(transport)),
      v2_(config.api == "v2"),
      timeout_(config.timeout),
      max_retries_(config.max_retries) {}

Result<std::unique_ptr<AirflowClient>> AirflowClient::create(const AirflowEngineConfig& config,
                                                             std::shared_ptr<UpstreamClient> http,
                                                             std::shared_ptr<CredentialsProvider> aws) {
  std::unique_ptr<AirflowTransport> transport;
  if (config.auth.type == "mwaa-invoke-rest-api") {
    transport = std::make_unique<MwaaInvokeTransport>(config, std::move(http), std::move(aws));
  } else {
    auto auth = make_airflow_auth(config, http, std::move(aws));
    if (!auth) return auth.error();
    transport = std::make_unique<DirectTransport>(config, std::move(http), std::move(auth).value());
  }
  return std::make_unique<AirflowClient>(config, std::move(transport));
}

Result<AirflowReply> AirflowClient::call(const AirflowCall& call) const {
  auto deadline = Steady::now() + timeout_;
  for (int attempt = 0;; ++attempt) {
    milliseconds left = remaining(deadline);
    if (left.count() <= 0) {
      return Error{ErrorCode::kUpstreamTimeout, "airflow " + call.method + " " + call.path + ": deadline passed",
                   "workflow engine timed out"};
    }
    ++exchanges_;
    auto r = transport_->exchange(call, left);
    Error err;
    if (!r) {
      err = as_engine_error(r.error(), call);
    } else if (r->status >= 500) {
      err = {ErrorCode::kUpstreamFailed, "airflow " + call.method + " " + call.path + ": " + std::to_string(r->status),
             "workflow engine failed"};
    } else if (r->status == 401) {
      return Error{ErrorCode::kUpstreamFailed, "airflow " + call.method + " " + call.path + ": 401 after login",
                   "workflow engine refused scigate's credentials"};
    } else {
      AirflowReply reply{r->status, nullptr};
      if (!r->body.empty()) {
        auto parsed = parse_json(r->body);
        if (parsed) {
          reply.body = std::move(parsed).value();
        } else if (r->status < 300) {
          return Error{ErrorCode::kUpstreamFailed, "airflow " + call.method + " " + call.path + ": answer is not JSON",
                       "workflow engine answered something unreadable"};
        }
      }
      return reply;
    }
    if (!call.idempotent || attempt >= max_retries_) return err;
    spdlog::warn("{} (attempt {}, retrying)", err.internal, attempt + 1);
    std::this_thread::sleep_for(std::min(jittered_backoff(attempt, milliseconds(200), milliseconds(2'000)),
                                         std::max(milliseconds(0), remaining(deadline))));
  }
}

std::string airflow_error_detail(const AirflowReply& reply) {
  std::string detail = "HTTP " + std::to_string(reply.status);
  if (reply.body.is_object()) {
    const auto* d = reply.body.get_object().if_contains("detail");
    if (d && d->is_string())
      detail += ": " + std::string(d->get_string());
    else if (d)
      detail += ": " + json::serialize(*d);
  }
  return detail.substr(0, 500);
}

}  // namespace scigate
