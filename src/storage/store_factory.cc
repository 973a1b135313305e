#include "storage/store_factory.h"

#include "storage/local_store.h"
#include "storage/s3_store.h"

namespace scigate {

Result<StoreMap> make_stores(const Config& config, const CredentialsMap& credentials, const std::string& signing_key) {
  StoreMap stores;
  for (const auto& [name, p] : config.providers) {
    if (p.type == "file") {
      stores[name] = std::make_shared<LocalObjectStore>(name, p.root, config.server.public_url,
                                                        p.signing_key ? p.signing_key->value() : signing_key);
    } else if (p.type == "s3") {
      auto creds = credentials.find(name);
      if (creds == credentials.end()) return Error::internal_error("provider " + name + ": no credentials");
      // One connection pool per provider, with that provider's connect timeout.
      auto http = std::make_shared<UpstreamClient>(UpstreamOptions{p.connect_timeout});
      stores[name] = std::make_shared<S3ObjectStore>(p, creds->second, std::move(http));
    } else {
      return Error::internal_error("provider " + name + ": unsupported type " + p.type);
    }
  }
  return stores;
}

}  // namespace scigate
