// Signed, expiring URLs for clients that cannot send a bearer token: presigned /files
// links, and tile URLs that map libraries (MapLibre, Leaflet, OpenLayers, QGIS) fetch on
// their own. The signature is an HMAC-SHA256 over a scope (what the URL may reach) and
// the expiry, with the server's signing key; several instances sharing the key accept
// each other's URLs. Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/time_util.h"

namespace scigate {

class UrlSigner {
 public:
  explicit UrlSigner(std::string key);

  // Hex HMAC of "{scope}\n{expires}" (Unix seconds).
  std::string signature(std::string_view scope, int64_t expires) const;
  // kForbidden when `expires` is not a number, the signature does not match (compared in
  // constant time) or the time has passed.
  Status verify(std::string_view scope, std::string_view expires, std::string_view signature, SystemTime now) const;

 private:
  std::string key_;
};

}  // namespace scigate
