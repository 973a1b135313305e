#include "auth/token_cache.h"

#include <openssl/evp.h>

#include <cstring>

namespace scigate {

TokenCache::TokenCache(size_t capacity) : per_shard_(std::max<size_t>(1, capacity / kShards)) {}

TokenCache::Digest TokenCache::digest(std::string_view token) {
  // Fetched once: EVP_sha256() looks the implementation up again on every digest.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), d.data(), &len, kSha256, nullptr);
  return d;
}

size_t TokenCache::DigestHash::operator()(const Digest& d) const {
  size_t h;  // SHA-256 output is uniform: its first bytes are a fine hash
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

std::optional<std::string> TokenCache::find(const Digest& key, SystemTime now) {
  Shard& s = shard_of(key);
  std::shared_lock lock(s.mu);
  auto it = s.entries.find(key);
  // An expired entry stays until insert() needs the room.
  if (it == s.entries.end() || now > it->second.valid_until) return std::nullopt;
  return it->second.username;
}

void TokenCache::insert(const Digest& key, std::string username, SystemTime valid_until, SystemTime now) {
  Shard& s = shard_of(key);
  std::unique_lock lock(s.mu);
  if (s.entries.size() >= per_shard_) {
    std::erase_if(s.entries, [&](const auto& kv) { return now > kv.second.valid_until; });
    // Still full of live tokens: forget an arbitrary one; it only costs a re-verification.
    if (s.entries.size() >= per_shard_) s.entries.erase(s.entries.begin());
  }
  s.entries.insert_or_assign(key, Entry{std::move(username), valid_until});
}

size_t TokenCache::size() {
  size_t n = 0;
  for (auto& s : shards_) {
    std::shared_lock lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

}  // namespace scigate
