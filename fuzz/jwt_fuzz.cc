// JWT verification as the server does it for every Authorization header, with a fixed
// configuration (HS256/HS384, issuer, audience, leeway, username from `username` or
// `sub`). Each input is used three ways:
//  - as the header value itself (real tokens, "Bearer ..." forms, garbage): everything
//    before and including the signature check;
//  - when it holds a newline, as "<header JSON>\n<claims JSON>" signed with the
//    configured secret, so that the claim checks (times, issuer, audience, username) run
//    on arbitrary claims, which a fuzzer could never sign itself;
//  - as a claim value for username_from_claim.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

#include "auth/jwt.h"
#include "core/base64.h"
#include "fuzz_check.h"

namespace scigate {
namespace {

constexpr char kSecret[] = "fuzz-secret-0123456789";

const JwtVerifier& verifier() {
  static const JwtVerifier v([] {
    JwtConfig c;
    c.algorithms = {"HS256", "HS384"};
    c.secret = Secret("env:FUZZ", kSecret);
    c.issuer = "LabCAS";
    c.audience = "LabCAS";
    return c;
  }());
  return v;
}

// 2026-01-01T00:00:00Z: tokens in the corpus carry exp around this time.
const SystemTime kNow = std::chrono::system_clock::from_time_t(1767225600);

std::string base64url(std::string_view in) {
  std::string s = base64_encode(in);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : (c == '/' ? '_' : c);
  return s;
}

std::string signed_token(std::string_view header, std::string_view claims) {
  std::string input = base64url(header) + "." + base64url(claims);
  const EVP_MD* md = header.find("HS384") != std::string_view::npos   ? EVP_sha384()
                     : header.find("HS512") != std::string_view::npos ? EVP_sha512()
                                                                      : EVP_sha256();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, kSecret, sizeof kSecret - 1, reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

void check_username(const Result<std::string>& user) {
  if (!user) {
    FUZZ_CHECK(user.error().code == ErrorCode::kUnauthenticated);
    return;
  }
  // Usernames become path segments of staging prefixes.
  FUZZ_CHECK(!user->empty() && user->size() <= 128 && *user != "." && *user != "..");
  for (char c : *user)
    FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@');
}

void check_verified(const Result<Identity>& id) {
  if (!id) {
    FUZZ_CHECK(id.error().code == ErrorCode::kUnauthenticated);
    FUZZ_CHECK(id.error().client.find(kSecret) == std::string::npos);
    return;
  }
  check_username(id->username);
}

}  // namespace
}  // namespace scigate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string input = fuzz::as_string(data, size);
  check_verified(verifier().verify(input, kNow));
  if (size_t nl = input.find('\n'); nl != std::string::npos) {
    std::string token = signed_token(std::string_view(input).substr(0, nl), std::string_view(input).substr(nl + 1));
    check_verified(verifier().verify("Bearer " + token, kNow));
  }
  check_username(username_from_claim(input));
  return 0;
}
