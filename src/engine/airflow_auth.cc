#include "engine/airflow_auth.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <mutex>

#include "core/base64.h"
#include "core/json_util.h"
#include "core/key_path.h"

namespace json = boost::json;

namespace scigate {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

// Tokens are renewed this long before they expire, so no request carries one that dies
// on the way.
constexpr auto kRenewMargin = std::chrono::seconds(60);

Error login_failed(const std::string& what, const std::string& internal) {
  return {ErrorCode::kUpstreamFailed, "airflow " + what + ": " + internal, "workflow engine login failed"};
}

// Propagates a transport error of a login call with the login named in the log.
Error login_transport_error(const std::string& what, const Error& e) {
  Error out = e;
  out.internal = "airflow " + what + ": " + e.internal;
  if (out.code == ErrorCode::kUnavailable) out.code = ErrorCode::kUpstreamFailed;
  out.client = out.code == ErrorCode::kUpstreamTimeout ? "workflow engine timed out" : "workflow engine login failed";
  return out;
}

// none, basic, token: the same header every time; nothing to renew.
class FixedHeader final : public AirflowAuth {
 public:
  explicit FixedHeader(HeaderField field) : field_(std::move(field)) {}
  Result<HeaderField> header(milliseconds) override { return field_; }
  bool refused(const HeaderField&) override { return false; }

 private:
  HeaderField field_;
};

// A credential obtained by logging in, reused until it is refused or near its expiry.
class LoginAuth : public AirflowAuth {
 public:
  Result<HeaderField> header(milliseconds budget) override {
    if (auto cached = current()) return *cached;
    std::unique_lock flight(login_mu_, std::defer_lock);
    if (!flight.try_lock_for(budget)) {
      return Error{ErrorCode::kUpstreamTimeout, "airflow login: waited too long for another login",
                   "workflow engine timed out"};
    }
    if (auto cached = current()) return *cached;  // somebody else just logged in
    auto fresh = login(budget);
    if (!fresh) return fresh.error();
    std::lock_guard lock(mu_);
    field_ = fresh->first;
    expires_ = fresh->second;
    return field_;
  }

  bool refused(const HeaderField& sent) override {
    std::lock_guard lock(mu_);
    if (field_ == sent) field_ = {};
    return true;
  }

 protected:
  // The header and when it stops being valid (nullopt: until refused).
  using Login = std::pair<HeaderField, std::optional<Clock::time_point>>;
  virtual Result<Login> login(milliseconds budget) = 0;

 private:
  std::optional<HeaderField> current() {
    std::lock_guard lock(mu_);
    if (field_.first.empty()) return std::nullopt;
    if (expires_ && Clock::now() + kRenewMargin >= *expires_) return std::nullopt;
    return field_;
  }

  std::timed_mutex login_mu_;  // single flight
  std::mutex mu_;              // guards the two below
  HeaderField field_;
  std::optional<Clock::time_point> expires_;
};

// Airflow 3: POST /auth/token {username, password} → {"access_token": JWT}.
class Airflow3Password final : public LoginAuth {
 public:
  Airflow3Password(const AirflowAuthConfig& config, std::shared_ptr<UpstreamClient> http)
      : url_(config.token_url), username_(config.username), password_(*config.password), http_(std::move(http)) {}

 protected:
  Result<Login> login(milliseconds budget) override {
    json::object creds{{"username", username_}, {"password", password_.value()}};
    auto r = http_->send({"POST",
                          url_,
                          {{"Content-Type", "application/json"}, {"Accept", "application/json"}},
                          json::serialize(creds),
                          std::nullopt,
                          budget});
    if (!r) return login_transport_error("token", r.error());
    if (r->status != 200 && r->status != 201) return login_failed("token", "answered " + std::to_string(r->status));
    auto body = parse_json(r->body);
    std::string token = body && body->is_object() ? string_or(body->get_object(), "access_token") : "";
    if (token.empty()) return login_failed("token", "answer has no access_token");
    spdlog::info("airflow: obtained an API token from {}", url_origin(url_).authority);
    return Login{{"Authorization", "Bearer " + token}, jwt_expiry(token)};
  }

 private:
  std::string url_;
  std::string username_;
  Secret password_;
  std::shared_ptr<UpstreamClient> http_;
};

// MWAA: a SigV4-signed POST /webtoken/{env} gives a one-time web token; POSTing it to the
// web server's /aws_mwaa/login gives a `session` cookie, which Airflow's API accepts.
class MwaaWebLogin final : public LoginAuth {
 public:
  MwaaWebLogin(const AirflowAuthConfig& config, std::shared_ptr<UpstreamClient> http,
               std::shared_ptr<CredentialsProvider> aws)
      : config_(config), http_(std::move(http)), aws_(std::move(aws)), signer_(config.region, "airflow") {}

 protected:
  Result<Login> login(milliseconds budget) override {
    auto deadline = std::chrono::steady_clock::now() + budget;
    auto left = [&] {
      return std::max(milliseconds(1),
                      std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()));
    };
    auto req = signed_mwaa_post(config_.mwaa_endpoint + "/webtoken/" + percent_encode(config_.environment), "", *aws_,
                                signer_, left());
    if (!req) return req.error();
    auto r = http_->send(*req);
    if (!r) return login_transport_error("webtoken", r.error());
    if (r->status != 200) return login_failed("webtoken", "MWAA answered " + std::to_string(r->status));
    auto body = parse_json(r->body);
    if (!body || !body->is_object()) return login_failed("webtoken", "answer is not a JSON object");
    std::string token = string_or(body->get_object(), "WebToken");
    std::string host = string_or(body->get_object(), "WebServerHostname");
    if (token.empty() || host.empty()) return login_failed("webtoken", "answer lacks WebToken or WebServerHostname");
    {
      std::lock_guard lock(origin_mu_);
      origin_ = "https://" + host;
    }
    std::string login_url = config_.login_url.empty() ? "https://" + host + "/aws_mwaa/login" : config_.login_url;
    auto l = http_->send({"POST",
                          login_url,
                          {{"Content-Type", "application/x-www-form-urlencoded"}},
                          "token=" + percent_encode(token, false),
                          std::nullopt,
                          left()});
    if (!l) return login_transport_error("web login", l.error());
    for (const auto& [name, value] : l->cookies()) {
      if (name == "session" && !value.empty()) {
        spdlog::info("airflow: logged in to MWAA environment {}", config_.environment);
        return Login{{"Cookie", "session=" + value}, std::nullopt};
      }
    }
    return login_failed("web login", "answered " + std::to_string(l->status) + " without a session cookie");
  }

 public:
  std::string origin() const override {
    std::lock_guard lock(origin_mu_);
    return origin_;
  }

 private:
  AirflowAuthConfig config_;
  std::shared_ptr<UpstreamClient> http_;
  std::shared_ptr<CredentialsProvider> aws_;
  SigV4Signer signer_;
  mutable std::mutex origin_mu_;
  std::string origin_;
};

}  // namespace

Result<UpstreamRequest> signed_mwaa_post(const std::string& url, std::string json_body, CredentialsProvider& aws,
                                         const SigV4Signer& signer, milliseconds timeout) {
  auto creds = aws.current();
  if (!creds) return creds.error();
  size_t path_at = url.find('/', url.find("://") + 3);
  SignableRequest sr;
  sr.method = "POST";
  // The URL is percent-encoded; the signer wants the raw path and encodes it itself.
  if (!percent_decode(path_at == std::string::npos ? "/" : url.substr(path_at), sr.path))
    return Error::internal_error("bad MWAA URL " + url);
  sr.headers = {{"Host", url_origin(url).authority}, {"Content-Type", "application/json"}};
  sr.payload_hash = sha256_hex(json_body);
  signer.sign(sr, **creds, Clock::now());
  return UpstreamRequest{"POST", url, sr.headers, std::move(json_body), std::nullopt, timeout};
}

std::optional<Clock::time_point> jwt_expiry(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  std::string payload;
  if (!base64url_decode(token.substr(a + 1, b - a - 1), payload)) return std::nullopt;
  auto claims = parse_json(payload);
  if (!claims || !claims->is_object()) return std::nullopt;
  const auto* exp = claims->get_object().if_contains("exp");
  if (!exp || !exp->is_number()) return std::nullopt;
  // An exp no time point can hold reads as unknown (the token is then kept until refused),
  // rather than overflowing into some date.
  constexpr auto kMaxSeconds =
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count());
  double seconds = exp->to_number<double>();
  if (!(std::fabs(seconds) < kMaxSeconds)) return std::nullopt;
  return Clock::from_time_t(static_cast<std::time_t>(seconds));
}

Result<std::unique_ptr<AirflowAuth>> make_airflow_auth(const AirflowEngineConfig& config,
                                                       std::shared_ptr<UpstreamClient> http,
                                                       std::shared_ptr<CredentialsProvider> aws) {
  const auto& a = config.auth;
  if (a.type == "none") return std::unique_ptr<AirflowAuth>(std::make_unique<FixedHeader>(HeaderField{}));
  if (a.type == "basic") {
    return std::unique_ptr<AirflowAuth>(std::make_unique<FixedHeader>(
        HeaderField{"Authorization", "Basic " + base64_encode(a.username + ":" + a.password->value())}));
  }
  if (a.type == "token") {
    return std::unique_ptr<AirflowAuth>(
        std::make_unique<FixedHeader>(HeaderField{"Authorization", "Bearer " + a.token->value()}));
  }
  if (a.type == "airflow3-password")
    return std::unique_ptr<AirflowAuth>(std::make_unique<Airflow3Password>(a, std::move(http)));
  if (a.type == "mwaa-web-login")
    return std::unique_ptr<AirflowAuth>(std::make_unique<MwaaWebLogin>(a, std::move(http), std::move(aws)));
  return Error::internal_error("no header auth for airflow auth type " + a.type);
}

}  // namespace scigate
