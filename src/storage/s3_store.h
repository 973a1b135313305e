// S3ObjectStore: a provider of `type: s3` (AWS or any S3-compatible store). Speaks the S3
// REST API over UpstreamClient with SigV4 (service "s3", unsigned paths kept literal,
// x-amz-content-sha256 on every request), path-style or virtual-hosted addressing,
// ListObjectsV2 parsed with pugixml, multipart upload above a threshold, presigned GETs.
// Files are uploaded streamed from disk (each part read in small chunks, its SHA-256 taken
// in a first pass), so memory stays small whatever the part size; downloads to a file
// appear whole or not at all.
//
// Credentials are looked up from the provider's CredentialsProvider on every call.
// Transient failures (connection refused, timeouts, 5xx, SlowDown) are retried with
// jittered exponential backoff, at most max_retries times. Errors name the provider,
// never a key or secret: NoSuchKey → kNotFound; AccessDenied/SignatureDoesNotMatch/
// InvalidAccessKeyId → kUpstreamFailed (502); unreachable → kUnavailable (503); too slow
// → kUpstreamTimeout (504). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "catalog/config.h"
#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"
#include "storage/object_store.h"

namespace scigate {

class S3ObjectStore final : public ObjectStore {
 public:
  using Clock = std::function<SystemTime()>;
  // `clock` is only replaced by tests that need deterministic signatures.
  S3ObjectStore(
      std::string provider, S3ProviderConfig config, std::shared_ptr<CredentialsProvider> credentials,
      std::shared_ptr<UpstreamClient> http, Clock clock = [] { return std::chrono::system_clock::now(); });

  const std::string& provider_name() const override { return provider_; }
  Result<ListPage> list(const ListRequest& request) override;
  Result<ObjectInfo> head(const std::string& bucket, const std::string& key) override;
  Result<std::string> get(const std::string& bucket, const std::string& key,
                          std::optional<ByteRange> range = std::nullopt) override;
  Status get_to_file(const std::string& bucket, const std::string& key,
                     const std::filesystem::path& destination) override;
  Status put(const std::string& bucket, const std::string& key, std::string_view data) override;
  Status put_file(const std::string& bucket, const std::string& key, const std::filesystem::path& source) override;
  Status remove(const std::string& bucket, const std::string& key) override;
  Result<std::string> presign_get(const std::string& bucket, const std::string& key,
                                  std::chrono::milliseconds ttl) override;
  // Also creates a bucket (tests and first-time setup).
  Status create_bucket(const std::string& bucket);

 private:
  struct Call {
    std::string method = "GET";
    std::string bucket;
    std::string key;  // raw; "" for bucket-level calls
    HeaderList query;
    HeaderList headers;
    std::string body;
    std::optional<FileRange> body_file;  // instead of `body`
    std::string body_file_hash;          // its SHA-256, taken once for every attempt
    std::optional<std::filesystem::path> response_file;
    bool long_transfer = false;  // no total timeout, only the stall limit
  };
  struct Address {
    std::string base;  // scheme://host[:port]
    std::string host;  // Host header
    std::string path;  // raw path for signing and sending
  };

  Address address(const std::string& bucket, const std::string& key) const;
  // Signs and sends, retrying transient failures; maps S3 errors (non-2xx) to Error.
  Result<UpstreamResponse> call(const Call& call) const;
  Result<UpstreamResponse> attempt(const Call& call, const AwsCredentials& credentials) const;
  Error error_from(const UpstreamResponse& response, const Call& call) const;
  Error provider_error(Error e) const;
  // PUT of a whole object or a part from a file range.
  Result<UpstreamResponse> put_range(Call call, FileRange range) const;
  Status put_multipart(const std::string& bucket, const std::string& key, const std::filesystem::path& source,
                       uint64_t size);

  std::string provider_;
  S3ProviderConfig config_;
  std::shared_ptr<CredentialsProvider> credentials_;
  std::shared_ptr<UpstreamClient> http_;
  SigV4Signer signer_;
  Clock clock_;
};

}  // namespace scigate
