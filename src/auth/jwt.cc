#include "auth/jwt.h"

#include <jwt.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "core/base64.h"
#include "core/json_util.h"

namespace json = boost::json;

namespace scigate {

namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

Error unauth(std::string reason) { return Error::unauthenticated(std::move(reason)); }

std::string_view strip_bearer(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer " || v.substr(0, 7) == "BEARER ")) {
    v.remove_prefix(7);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  }
  return v;
}

// Reads the header segment ourselves so that the algorithm can be pinned before libjwt
// sees the token (libjwt 1.10 would accept "none" when given no key).
Result<std::string> header_alg(const std::string& token) {
  size_t dot = token.find('.');
  std::string decoded;
  if (dot == std::string::npos || !base64url_decode(std::string_view(token).substr(0, dot), decoded)) {
    return unauth("malformed token");
  }
  auto header = parse_json(decoded);
  if (!header || !header->is_object()) return unauth("malformed token header");
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood, and scigate
  // understands none (e.g. "b64": false would change what the signature covers).
  if (header->get_object().contains("crit")) return unauth("token uses critical header extensions");
  auto alg = string_or(header->get_object(), "alg");
  if (alg.empty()) return unauth("token header has no alg");
  return alg;
}

std::optional<double> numeric_claim(const json::object& claims, const char* name, bool& wrong_type) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  const json::value& v = it->value();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  wrong_type = true;
  return std::nullopt;
}

}  // namespace

JwtVerifier::JwtVerifier(JwtConfig config, size_t cache_entries)
    : config_(std::move(config)), cache_(cache_entries ? std::make_shared<TokenCache>(cache_entries) : nullptr) {}

Result<Identity> JwtVerifier::verify(std::string_view authorization, SystemTime now) const {
  std::string_view raw = strip_bearer(authorization);
  if (raw.empty()) return unauth("missing bearer token");
  if (raw.size() > kMaxTokenBytes) return unauth("token too large");
  if (std::count(raw.begin(), raw.end(), '.') != 2) return unauth("malformed token");
  TokenCache::Digest key{};
  if (cache_) {
    key = TokenCache::digest(raw);
    if (auto user = cache_->find(key, now)) return Identity{std::move(*user)};
  }
  std::string token(raw);
  auto claims = verified_claims(token);
  if (!claims) return claims.error();
  if (auto st = check_times(*claims, now); !st) return st.error();
  if (auto st = check_issuer_audience(*claims); !st) return st.error();
  auto id = identity_from(*claims);
  if (id && cache_) {
    // check_times passed, so exp is a number; the token stays good until exp + leeway.
    bool unused = false;
    double exp = *numeric_claim(*claims, "exp", unused);
    auto until = SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(exp))) +
                 config_.leeway;
    cache_->insert(key, id->username, until, now);
  }
  return id;
}

Result<json::object> JwtVerifier::verified_claims(const std::string& token) const {
  auto alg = header_alg(token);
  if (!alg) return alg.error();
  if (std::find(config_.algorithms.begin(), config_.algorithms.end(), *alg) == config_.algorithms.end()) {
    return unauth("token algorithm not accepted");
  }
  const std::string& key = config_.secret.value();
  jwt_t* raw = nullptr;
  int rc =
      jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return unauth("invalid token signature");
  if (jwt_alg_str(jwt_get_alg(jwt.get())) != *alg) return unauth("token algorithm mismatch");
  char* grants = jwt_get_grants_json(jwt.get(), nullptr);
  if (grants == nullptr) return unauth("token has no claims");
  std::string grants_text(grants);
  std::free(grants);
  auto parsed = parse_json(grants_text);
  if (!parsed || !parsed->is_object()) return unauth("token claims are not an object");
  return std::move(parsed->get_object());
}

Status JwtVerifier::check_times(const json::object& claims, SystemTime now) const {
  bool wrong = false;
  auto exp = numeric_claim(claims, "exp", wrong);
  auto nbf = numeric_claim(claims, "nbf", wrong);
  auto iat = numeric_claim(claims, "iat", wrong);
  if (wrong) return unauth("token time claims must be numbers");
  if (!exp) return unauth("token has no exp");
  double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  double leeway = std::chrono::duration<double>(config_.leeway).count();
  if (t > *exp + leeway) return unauth("token expired");
  if (nbf && t + leeway < *nbf) return unauth("token not yet valid");
  if (iat && t + leeway < *iat) return unauth("token issued in the future");
  // A stolen long-lived token is a long-lived breach: refuse lifetimes above the limit
  // (measured from now when the token does not say when it was issued).
  double max_lifetime = std::chrono::duration<double>(config_.max_token_lifetime).count();
  if (max_lifetime > 0 && *exp - iat.value_or(t) > max_lifetime) return unauth("token lifetime too long");
  return ok_status();
}

Status JwtVerifier::check_issuer_audience(const json::object& claims) const {
  if (!config_.issuer.empty() && string_or(claims, "iss") != config_.issuer) return unauth("token issuer not accepted");
  if (config_.audience.empty()) return ok_status();
  auto it = claims.find("aud");
  if (it != claims.end()) {
    if (it->value().is_string() && it->value().get_string() == config_.audience) return ok_status();
    if (it->value().is_array()) {
      for (const auto& a : it->value().get_array()) {
        if (a.is_string() && a.get_string() == config_.audience) return ok_status();
      }
    }
  }
  return unauth("token audience not accepted");
}

Result<Identity> JwtVerifier::identity_from(const json::object& claims) const {
  for (const auto& name : config_.username_claims) {
    auto it = claims.find(name);
    if (it == claims.end() || !it->value().is_string() || it->value().get_string().empty()) continue;
    auto user = username_from_claim(it->value().get_string());
    if (!user) return user.error();
    return Identity{std::move(user).value()};
  }
  return unauth("token names no user");
}

Result<std::string> username_from_claim(std::string_view value) {
  std::string_view name = value;
  if (value.rfind("uid=", 0) == 0) {
    name = value.substr(4, value.find(',') == std::string_view::npos ? std::string_view::npos : value.find(',') - 4);
  }
  bool ok = !name.empty() && name.size() <= 128 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@');
  }
  if (!ok) return unauth("token username is not acceptable");
  return std::string(name);
}

std::string mint_hs_token(const json::object& claims, const std::string& secret, const std::string& algorithm) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr jwt(raw);
  std::string body = json::serialize(claims);
  if (jwt_add_grants_json(jwt.get(), body.c_str()) != 0) throw std::runtime_error("jwt_add_grants_json failed");
  jwt_alg_t alg = jwt_str_alg(algorithm.c_str());
  if (jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    throw std::runtime_error("jwt_set_alg failed");
  }
  char* out = jwt_encode_str(jwt.get());
  if (out == nullptr) throw std::runtime_error("jwt_encode_str failed");
  std::string token(out);
  std::free(out);
  return token;
}

}  // namespace scigate
