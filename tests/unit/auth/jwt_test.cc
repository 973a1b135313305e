// Table-driven JWT cases. Tokens are built here with an independent HMAC (OpenSSL) and
// base64url encoder, so the verifier is not checked against its own minting code.
#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace json = boost::json;

namespace scigate {
namespace {

const std::string kSecret = "test-secret-of-reasonable-length";
const int64_t kNow = 1'800'000'000;

std::string b64url(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(a[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(a[((val << 8) >> (bits + 8)) & 0x3F]);
  return out;
}

std::string sign(const std::string& header, const json::object& claims, const std::string& secret = kSecret,
                 const EVP_MD* md = EVP_sha256()) {
  std::string input = b64url(header) + "." + b64url(json::serialize(claims));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

const std::string kHs256 = R"({"alg":"HS256","typ":"JWT"})";

json::object claims(json::object extra = {}) {
  json::object c{{"sub", "thomas"}, {"exp", kNow + 600}, {"iat", kNow - 10}, {"iss", "LabCAS"}, {"aud", "LabCAS"}};
  for (auto& kv : extra) c[kv.key()] = kv.value();
  return c;
}

JwtVerifier verifier() {
  JwtConfig cfg;
  cfg.secret = Secret("env:X", kSecret);
  cfg.issuer = "LabCAS";
  cfg.audience = "LabCAS";
  return JwtVerifier(cfg);
}

SystemTime now() { return SystemTime(std::chrono::seconds(kNow)); }

struct Case {
  const char* name;
  std::string authorization;
  const char* user;  // nullptr = must be rejected
};

class JwtCases : public ::testing::TestWithParam<Case> {};

JwtVerifier caching_verifier() {
  JwtConfig cfg;
  cfg.secret = Secret("env:X", kSecret);
  cfg.issuer = "LabCAS";
  cfg.audience = "LabCAS";
  return JwtVerifier(cfg, 100);
}

// The cache must be invisible: every case gives the same answer on a first and a
// second (possibly cached) verification.
TEST_P(JwtCases, CachedVerificationAgrees) {
  JwtVerifier v = caching_verifier();
  for (int round = 0; round < 2; ++round) {
    auto id = v.verify(GetParam().authorization, now());
    ASSERT_EQ(id.ok(), GetParam().user != nullptr) << GetParam().name << " round " << round;
    if (id) EXPECT_EQ(id->username, GetParam().user);
  }
}

TEST_P(JwtCases, Verify) {
  auto id = verifier().verify(GetParam().authorization, now());
  if (GetParam().user) {
    ASSERT_TRUE(id) << GetParam().name << ": " << id.error().client;
    EXPECT_EQ(id->username, GetParam().user);
  } else {
    ASSERT_FALSE(id) << GetParam().name;
    EXPECT_EQ(id.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(id.error().client.find(kSecret), std::string::npos);
  }
}

std::string bearer(const std::string& t) { return "Bearer " + t; }

INSTANTIATE_TEST_SUITE_P(
    Table, JwtCases,
    ::testing::Values(
        Case{"valid", bearer(sign(kHs256, claims())), "thomas"}, Case{"bare_token", sign(kHs256, claims()), "thomas"},
        Case{"lowercase_bearer", "bearer " + sign(kHs256, claims()), "thomas"},
        Case{"username_claim_first", bearer(sign(kHs256, claims({{"username", "dliu"}}))), "dliu"},
        Case{"ldap_dn_sub", bearer(sign(kHs256, claims({{"sub", "uid=thomas,dc=edrn,dc=jpl,dc=nasa,dc=gov"}}))),
             "thomas"},
        Case{"aud_array", bearer(sign(kHs256, claims({{"aud", json::array{"other", "LabCAS"}}}))), "thomas"},
        Case{"exp_within_leeway", bearer(sign(kHs256, claims({{"exp", kNow - 20}}))), "thomas"},
        Case{"expired", bearer(sign(kHs256, claims({{"exp", kNow - 31}}))), nullptr},
        Case{"no_exp", bearer(sign(kHs256, json::object{{"sub", "thomas"}, {"iss", "LabCAS"}, {"aud", "LabCAS"}})),
             nullptr},
        Case{"exp_string", bearer(sign(kHs256, claims({{"exp", "tomorrow"}}))), nullptr},
        Case{"nbf_future", bearer(sign(kHs256, claims({{"nbf", kNow + 120}}))), nullptr},
        Case{"nbf_within_leeway", bearer(sign(kHs256, claims({{"nbf", kNow + 10}}))), "thomas"},
        Case{"iat_future", bearer(sign(kHs256, claims({{"iat", kNow + 3600}}))), nullptr},
        Case{"lifetime_24h", bearer(sign(kHs256, claims({{"iat", kNow}, {"exp", kNow + 24 * 3600}}))), "thomas"},
        Case{"lifetime_too_long", bearer(sign(kHs256, claims({{"iat", kNow - 10}, {"exp", kNow + 25 * 3600}}))),
             nullptr},
        Case{"no_iat_exp_too_far",
             bearer(sign(kHs256,
                         json::object{
                             {"sub", "thomas"}, {"exp", kNow + 25 * 3600}, {"iss", "LabCAS"}, {"aud", "LabCAS"}})),
             nullptr},
        Case{"crit_header", bearer(sign(R"({"alg":"HS256","crit":["exp"],"exp":1})", claims())), nullptr},
        Case{"crit_unencoded_payload", bearer(sign(R"({"alg":"HS256","b64":false,"crit":["b64"]})", claims())),
             nullptr},
        Case{"wrong_issuer", bearer(sign(kHs256, claims({{"iss", "Evil"}}))), nullptr},
        Case{"wrong_audience", bearer(sign(kHs256, claims({{"aud", "Other"}}))), nullptr},
        Case{"wrong_secret", bearer(sign(kHs256, claims(), "not-the-secret")), nullptr},
        Case{"alg_none", bearer(b64url(R"({"alg":"none"})") + "." + b64url(json::serialize(claims())) + "."), nullptr},
        Case{"alg_none_signed", bearer(sign(R"({"alg":"none"})", claims())), nullptr},
        Case{"alg_rs256_header", bearer(sign(R"({"alg":"RS256"})", claims())), nullptr},
        Case{"alg_hs512_not_configured", bearer(sign(R"({"alg":"HS512"})", claims(), kSecret, EVP_sha512())), nullptr},
        Case{"tampered_payload",
             bearer(b64url(kHs256) + "." + b64url(json::serialize(claims({{"sub", "admin"}}))) + "." +
                    sign(kHs256, claims()).substr(sign(kHs256, claims()).rfind('.') + 1)),
             nullptr},
        Case{"no_user", bearer(sign(kHs256, json::object{{"exp", kNow + 60}, {"iss", "LabCAS"}, {"aud", "LabCAS"}})),
             nullptr},
        Case{"path_like_user", bearer(sign(kHs256, claims({{"sub", "../../etc"}}))), nullptr},
        Case{"slash_user", bearer(sign(kHs256, claims({{"username", "a/b"}}))), nullptr}, Case{"empty", "", nullptr},
        Case{"bearer_only", "Bearer ", nullptr}, Case{"garbage", "Bearer not-a-jwt", nullptr},
        Case{"two_dots_garbage", "Bearer a.b.c", nullptr}, Case{"bad_base64_header", "Bearer !!!.e30.x", nullptr},
        Case{"header_not_json", bearer(b64url("nope") + ".e30.sig"), nullptr},
        Case{"oversized", bearer(sign(kHs256, claims({{"pad", std::string(9000, 'x')}}))), nullptr},
        Case{"many_dots", "Bearer a.b.c.d.e", nullptr},
        Case{"binary", std::string("Bearer \x01\x02.\xff\xfe.\x00", 14), nullptr}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(JwtVerifier, MaxTokenLifetimeIsConfigurableAndZeroDisablesIt) {
  JwtConfig cfg;
  cfg.secret = Secret("env:X", kSecret);
  std::string two_hours = sign(kHs256, claims({{"iat", kNow}, {"exp", kNow + 7200}}));
  cfg.max_token_lifetime = std::chrono::hours(1);
  EXPECT_FALSE(JwtVerifier(cfg).verify(two_hours, now()));
  cfg.max_token_lifetime = std::chrono::milliseconds(0);
  EXPECT_TRUE(JwtVerifier(cfg).verify(two_hours, now()));
}

TEST(JwtVerifier, CachedTokensExpireWithTheToken) {
  JwtVerifier v = caching_verifier();
  std::string t = sign(kHs256, claims({{"exp", kNow + 60}}));
  ASSERT_TRUE(v.verify(t, now()));
  ASSERT_TRUE(v.verify(t, now() + std::chrono::seconds(60 + 30)));   // within the 30 s leeway
  EXPECT_FALSE(v.verify(t, now() + std::chrono::seconds(60 + 31)));  // not even from the cache
}

TEST(TokenCache, StaysBoundedAndDropsExpiredEntriesFirst) {
  TokenCache cache(32);
  SystemTime t0 = now();
  for (int i = 0; i < 1000; ++i) {
    cache.insert(TokenCache::digest("token" + std::to_string(i)), "u" + std::to_string(i),
                 t0 + std::chrono::seconds(i % 2 ? 3600 : 1), t0);
  }
  EXPECT_LE(cache.size(), 32u);
  auto last = cache.find(TokenCache::digest("token999"), t0);
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, "u999");
  EXPECT_FALSE(cache.find(TokenCache::digest("token998"), t0 + std::chrono::seconds(2)));  // expired
  EXPECT_FALSE(cache.find(TokenCache::digest("never"), t0));
}

TEST(UsernameFromClaim, Cases) {
  EXPECT_EQ(username_from_claim("thomas").value(), "thomas");
  EXPECT_EQ(username_from_claim("uid=dliu,dc=edrn").value(), "dliu");
  EXPECT_EQ(username_from_claim("uid=solo").value(), "solo");
  EXPECT_EQ(username_from_claim("jane.doe@jpl.nasa.gov").value(), "jane.doe@jpl.nasa.gov");
  EXPECT_FALSE(username_from_claim(".."));
  EXPECT_FALSE(username_from_claim("uid=,dc=x"));
  EXPECT_FALSE(username_from_claim("a b"));
}

TEST(MintHsToken, VerifiesWithTheSameSecret) {
  std::string token = mint_hs_token(claims(), kSecret);
  auto id = verifier().verify(token, now());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->username, "thomas");
}

}  // namespace
}  // namespace scigate
