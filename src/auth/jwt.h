// JWT verification (HS256/384/512 with the configured secret) and, for the CLI, minting.
//
// The algorithm is pinned: the token header's `alg` must be one of the configured
// algorithms before any signature check, so `none`, RS256 (key confusion) and the like
// are refused. `exp` is required; `nbf` and `iat` are honoured with leeway; exp − iat may
// not exceed max_token_lifetime; a header with `crit` is refused; `iss` and `aud` are
// checked when configured. Thread-safe: verify() is const and allocates per call.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "auth/token_cache.h"
#include "catalog/config.h"
#include "core/error.h"
#include "core/time_util.h"

namespace scigate {

struct Identity {
  std::string username;
};

inline constexpr size_t kMaxTokenBytes = 8192;

class JwtVerifier {
 public:
  // `cache_entries` > 0 remembers that many verified tokens (TokenCache), so repeated
  // requests with one token are checked once.
  explicit JwtVerifier(JwtConfig config, size_t cache_entries = 0);

  // `authorization` is the Authorization header's value: "Bearer <jwt>" or the bare
  // token (the seed's demo client sends it so). Failure is always kUnauthenticated with
  // a short reason; the token itself never appears in a message.
  Result<Identity> verify(std::string_view authorization, SystemTime now) const;

 private:
  Result<boost::json::object> verified_claims(const std::string& token) const;
  Status check_times(const boost::json::object& claims, SystemTime now) const;
  Status check_issuer_audience(const boost::json::object& claims) const;
  Result<Identity> identity_from(const boost::json::object& claims) const;

  JwtConfig config_;
  std::shared_ptr<TokenCache> cache_;  // null: no cache
};

// Extracts a username from a claim value: "thomas" stays, an LDAP DN like
// "uid=thomas,dc=edrn,dc=jpl,dc=nasa,dc=gov" yields "thomas". Usernames become path
// segments of staging prefixes, so only [A-Za-z0-9._@-] (not "." or "..") is accepted.
Result<std::string> username_from_claim(std::string_view value);

// Signs `claims` with HS256 (or the given HS algorithm). Throws on library failure.
std::string mint_hs_token(const boost::json::object& claims, const std::string& secret,
                          const std::string& algorithm = "HS256");

}  // namespace scigate
