#include "storage/store_factory.h"

#include "storage/local_store.h"
#include "storage/s3_store.h"

namespace scigate {

Result<StoreMap> make_stores(const Config& config, const CredentialsMap& credentials, const std::string& signing_key) {
  StoreMap stores;
  for (const auto& [name, p] : config.providers) {
    if (const auto* file = p.file()) {
      stores[name] = std::make_shared<LocalObjectStore>(name, file->root, config.server.public_url,
                                                        file->signing_key ? file->signing_key->value() : signing_key);
    } else if (const auto* s3 = p.s3()) {
      auto creds = credentials.find(name);
      if (creds == credentials.end()) return Error::internal_error("provider " + name + ": no credentials");
      // One connection pool per provider, with that provider's connect timeout.
      auto http = std::make_shared<UpstreamClient>(UpstreamOptions{s3->connect_timeout});
      stores[name] = std::make_shared<S3ObjectStore>(name, *s3, creds->second, std::move(http));
    }
  }
  return stores;
}

}  // namespace scigate
