// ObjectStore: the one interface every bucket backend implements (local folders now,
// S3 next). Keys are relative, '/'-separated, already validated by the caller with
// parse_relative_key; backends defend again and refuse anything that could escape.
//
// Thread safety: every method may be called concurrently from worker threads.
// Failure: kNotFound for a missing object, kUpstreamFailed/kUpstreamTimeout/kUnavailable
// for backend trouble, kBadRequest for an unusable key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/time_util.h"

namespace scigate {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  SystemTime modified{};
  std::string etag;
};

struct ListRequest {
  std::string bucket;
  std::string prefix;     // plain string prefix, as in S3
  std::string delimiter;  // "" (recursive) or "/"
  std::string continuation_token;
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectInfo> objects;           // sorted by key (byte order)
  std::vector<std::string> common_prefixes;  // "folder/" entries when a delimiter is set
  std::string next_token;                    // empty when this is the last page
};

// Inclusive byte range; `last` absent = to the end.
struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;
};

// A file on this machine that a store hands out behind one of its own signed links.
struct LocalFile {
  std::filesystem::path path;
  uint64_t size = 0;
};

// What a store whose presigned links point at scigate itself (GET /files/{provider}/...)
// implements, so that the endpoint serving them needs no knowledge of the backend.
class SignedLinkServer {
 public:
  virtual ~SignedLinkServer() = default;
  // Checks a link's signature and expiry (kForbidden when tampered or expired) and
  // returns the file to serve.
  virtual Result<LocalFile> open_signed(const std::string& bucket, const std::string& key, std::string_view expires,
                                        std::string_view signature, SystemTime now) const = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The server of this store's presigned links when scigate serves them itself; nullptr
  // when they point elsewhere (S3 serves its own).
  virtual const SignedLinkServer* signed_links() const { return nullptr; }

  virtual const std::string& provider_name() const = 0;
  virtual Result<ListPage> list(const ListRequest& request) = 0;
  virtual Result<ObjectInfo> head(const std::string& bucket, const std::string& key) = 0;
  virtual Result<std::string> get(const std::string& bucket, const std::string& key,
                                  std::optional<ByteRange> range = std::nullopt) = 0;
  // Creates destination's folders; the file appears whole or not at all (see atomic_file.h).
  virtual Status get_to_file(const std::string& bucket, const std::string& key,
                             const std::filesystem::path& destination) = 0;
  // Writes are atomic: a reader sees the old object or the new one, never a part.
  virtual Status put(const std::string& bucket, const std::string& key, std::string_view data) = 0;
  virtual Status put_file(const std::string& bucket, const std::string& key, const std::filesystem::path& source) = 0;
  virtual Status remove(const std::string& bucket, const std::string& key) = 0;
  // A URL anyone can GET for `ttl`, without a token.
  virtual Result<std::string> presign_get(const std::string& bucket, const std::string& key,
                                          std::chrono::milliseconds ttl) = 0;
};

}  // namespace scigate
