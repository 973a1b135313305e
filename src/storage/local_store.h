// LocalObjectStore: a provider of `type: file`. Bucket = sub-folder of root, key = path
// below it. Presigned links point at scigate itself: GET {public_url}/files/{provider}/
// {bucket}/{key}?expires=UNIX&sig=HEX with an HMAC-SHA256 over provider, bucket, key and
// expiry; open_signed() checks them. Thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "core/url_signer.h"
#include "storage/atomic_file.h"
#include "storage/object_store.h"

namespace scigate {

class LocalObjectStore final : public ObjectStore, public SignedLinkServer {
 public:
  // `signing_key` empty = a random key for this process (links die with it).
  LocalObjectStore(std::string provider, std::filesystem::path root, std::string public_url, std::string signing_key);

  const SignedLinkServer* signed_links() const override { return this; }
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

  Result<LocalFile> open_signed(const std::string& bucket, const std::string& key, std::string_view expires,
                                std::string_view signature, SystemTime now) const override;

 private:
  Result<std::filesystem::path> object_path(const std::string& bucket, const std::string& key) const;
  std::string scope(const std::string& bucket, const std::string& key) const;

  std::string provider_;
  std::filesystem::path root_;
  std::string public_url_;
  UrlSigner signer_;
};

}  // namespace scigate
