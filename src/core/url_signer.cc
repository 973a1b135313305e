#include "core/url_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace scigate {

UrlSigner::UrlSigner(std::string key) : key_(std::move(key)) {}

std::string UrlSigner::signature(std::string_view scope, int64_t expires) const {
  std::string msg = std::string(scope) + "\n" + std::to_string(expires);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

Status UrlSigner::verify(std::string_view scope, std::string_view expires, std::string_view sig, SystemTime now) const {
  if (expires.empty() || expires.size() > 18 ||
      !std::all_of(expires.begin(), expires.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::forbidden("invalid link");
  }
  int64_t exp = std::stoll(std::string(expires));
  std::string expected = signature(scope, exp);
  if (sig.size() != expected.size() || CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) != 0) {
    return Error::forbidden("invalid link signature");
  }
  if (std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() > exp) {
    return Error::forbidden("link expired");
  }
  return ok_status();
}

}  // namespace scigate
