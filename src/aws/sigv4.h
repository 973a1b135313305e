// AWS Signature Version 4: the one protocol piece scigate writes itself (no Debian
// package does it); checked against the official test suite.
// Header signing and query (presigned URL) signing for any service and region: S3 now,
// STS, SSM, Secrets Manager and MWAA later. Checked against the official test suite
// (tests/fixtures/aws-sigv4-test-suite).
//
// Thread safety: a SigV4Signer is immutable apart from its signing-key cache, which is
// internally locked; share one per (region, service).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time_util.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace scigate {

// Long-lived or temporary AWS credentials. The secret never appears in messages.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;             // empty for long-lived keys
  std::optional<SystemTime> expiration;  // absent = does not expire
  ~AwsCredentials();
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request as it will be sent. `path` and `query` are raw (not percent-encoded): the
// signer encodes them the way SigV4 wants, and the sender must encode them the same way
// (percent_encode in core/key_path.h: RFC 3986, as SigV4 wants it).
struct SignableRequest {
  std::string method;
  std::string path = "/";
  HeaderList query;
  HeaderList headers;        // must contain Host
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigningOptions {
  bool normalize_path = true;       // S3: false (keys are taken literally)
  bool add_content_sha256 = false;  // S3: true (x-amz-content-sha256 header)
  bool omit_session_token = false;  // add the token after signing (some services want that)
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

class SigV4Signer {
 public:
  SigV4Signer(std::string region, std::string service, SigningOptions options = {});

  // Header form: adds X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256 (per options)
  // and Authorization to request.headers.
  void sign(SignableRequest& request, const AwsCredentials& credentials, SystemTime now) const;
  // Query form: adds the X-Amz-* parameters and X-Amz-Signature to request.query.
  void presign(SignableRequest& request, const AwsCredentials& credentials, SystemTime now,
               std::chrono::seconds expires) const;

  // The intermediate values, for the test suite and for debugging signature mismatches.
  std::string canonical_request(const SignableRequest& request) const;
  std::string string_to_sign(std::string_view canonical_request, SystemTime now) const;
  std::string signature(std::string_view string_to_sign, const AwsCredentials& credentials, SystemTime now) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  std::string scope(SystemTime now) const;
  std::string signing_key(const AwsCredentials& credentials, const std::string& date) const;

  std::string region_;
  std::string service_;
  SigningOptions options_;
  // The derived key changes once a day per secret: cache the last one.
  mutable std::mutex mu_;
  mutable std::string cached_date_;
  mutable std::string cached_secret_;
  mutable std::string cached_key_;
};

std::string sha256_hex(std::string_view data);

// SHA-256 fed piece by piece: the payload hash of a body read from a file in chunks.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex_digest();  // call once, after the last update

 private:
  evp_md_ctx_st* ctx_;
};
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);
// "20150830T123600Z" and "20150830".
std::string amz_date(SystemTime t);

}  // namespace scigate
