#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "core/key_path.h"

namespace scigate {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of white space (including folded multi-line values).
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 remove_dot_segments plus collapsing of empty segments.
std::string normalized_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    start = end + 1;
  }
  bool trailing = !path.empty() && path.back() == '/' && !out.empty();
  std::string result;
  for (auto seg : out) result += "/" + std::string(seg);
  if (result.empty() || trailing) result += "/";
  return result;
}

// name → comma-joined values, sorted by lower-case name.
std::vector<std::pair<std::string, std::string>> canonical_headers(const HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string n = lower(name);
    std::string v = canonical_header_value(value);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == n; });
    if (it == out.end())
      out.emplace_back(n, v);
    else
      it->second += "," + v;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string signed_header_names(const HeaderList& headers) {
  std::string out;
  for (const auto& [name, value] : canonical_headers(headers)) out += (out.empty() ? "" : ";") + name;
  return out;
}

std::string date_part(SystemTime t) { return amz_date(t).substr(0, 8); }

}  // namespace

AwsCredentials::~AwsCredentials() {
  if (!secret_access_key.empty()) OPENSSL_cleanse(secret_access_key.data(), secret_access_key.size());
  if (!session_token.empty()) OPENSSL_cleanse(session_token.data(), session_token.size());
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, digest, &len);
  return to_hex(std::string_view(reinterpret_cast<char*>(digest), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string amz_date(SystemTime t) { return compact_stamp(t); }

SigV4Signer::SigV4Signer(std::string region, std::string service, SigningOptions options)
    : region_(std::move(region)), service_(std::move(service)), options_(options) {}

std::string SigV4Signer::canonical_request(const SignableRequest& r) const {
  std::string path = options_.normalize_path ? normalized_path(r.path) : r.path;
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : r.query) query.emplace_back(percent_encode(k, false), percent_encode(v, false));
  std::sort(query.begin(), query.end());
  std::string out = r.method + "\n" + percent_encode(path, true) + "\n";
  for (size_t i = 0; i < query.size(); ++i) out += (i ? "&" : "") + query[i].first + "=" + query[i].second;
  out += "\n";
  for (const auto& [name, value] : canonical_headers(r.headers)) out += name + ":" + value + "\n";
  out += "\n" + signed_header_names(r.headers) + "\n" + r.payload_hash;
  return out;
}

std::string SigV4Signer::scope(SystemTime now) const {
  return date_part(now) + "/" + region_ + "/" + service_ + "/aws4_request";
}

std::string SigV4Signer::string_to_sign(std::string_view canonical, SystemTime now) const {
  return std::string(kAlgorithm) + "\n" + amz_date(now) + "\n" + scope(now) + "\n" + sha256_hex(canonical);
}

std::string SigV4Signer::signing_key(const AwsCredentials& c, const std::string& date) const {
  std::lock_guard lock(mu_);
  if (date == cached_date_ && c.secret_access_key == cached_secret_) return cached_key_;
  std::string k = hmac_sha256("AWS4" + c.secret_access_key, date);
  k = hmac_sha256(k, region_);
  k = hmac_sha256(k, service_);
  k = hmac_sha256(k, "aws4_request");
  if (!cached_secret_.empty()) OPENSSL_cleanse(cached_secret_.data(), cached_secret_.size());
  cached_date_ = date;
  cached_secret_ = c.secret_access_key;
  cached_key_ = k;
  return k;
}

std::string SigV4Signer::signature(std::string_view sts, const AwsCredentials& c, SystemTime now) const {
  return to_hex(hmac_sha256(signing_key(c, date_part(now)), sts));
}

void SigV4Signer::sign(SignableRequest& r, const AwsCredentials& c, SystemTime now) const {
  r.headers.emplace_back("X-Amz-Date", amz_date(now));
  if (!c.session_token.empty() && !options_.omit_session_token)
    r.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  if (options_.add_content_sha256) r.headers.emplace_back("x-amz-content-sha256", r.payload_hash);
  std::string sig = signature(string_to_sign(canonical_request(r), now), c, now);
  std::string auth = std::string(kAlgorithm) + " Credential=" + c.access_key_id + "/" + scope(now) +
                     ", SignedHeaders=" + signed_header_names(r.headers) + ", Signature=" + sig;
  if (!c.session_token.empty() && options_.omit_session_token)
    r.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  r.headers.emplace_back("Authorization", std::move(auth));
}

void SigV4Signer::presign(SignableRequest& r, const AwsCredentials& c, SystemTime now,
                          std::chrono::seconds expires) const {
  r.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  r.query.emplace_back("X-Amz-Credential", c.access_key_id + "/" + scope(now));
  r.query.emplace_back("X-Amz-Date", amz_date(now));
  r.query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  r.query.emplace_back("X-Amz-SignedHeaders", signed_header_names(r.headers));
  if (!c.session_token.empty() && !options_.omit_session_token)
    r.query.emplace_back("X-Amz-Security-Token", c.session_token);
  std::string sig = signature(string_to_sign(canonical_request(r), now), c, now);
  if (!c.session_token.empty() && options_.omit_session_token)
    r.query.emplace_back("X-Amz-Security-Token", c.session_token);
  r.query.emplace_back("X-Amz-Signature", sig);
}

}  // namespace scigate
