// Tokens that verified, remembered by the SHA-256 of their text, so that a client's
// repeated requests skip signature and claim checks (the largest per-request cost after
// the kernel). Only tokens that passed every check enter; an entry answers until the
// token's own expiry (leeway included), so the cache never accepts what verify() would
// refuse. The token itself is not stored. Bounded; thread-safe: lookups take a shared
// lock, so threads serving the same token do not wait for each other.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time_util.h"

namespace scigate {

class TokenCache {
 public:
  using Digest = std::array<unsigned char, 32>;

  explicit TokenCache(size_t capacity);

  static Digest digest(std::string_view token);
  // The username of a remembered token still valid at `now`.
  std::optional<std::string> find(const Digest& key, SystemTime now);
  void insert(const Digest& key, std::string username, SystemTime valid_until, SystemTime now);
  size_t size();

 private:
  struct Entry {
    std::string username;
    SystemTime valid_until;
  };
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  struct Shard {
    std::shared_mutex mu;
    std::unordered_map<Digest, Entry, DigestHash> entries;
  };
  static constexpr size_t kShards = 16;

  Shard& shard_of(const Digest& key) { return shards_[key[31] % kShards]; }

  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace scigate
