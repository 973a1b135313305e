#include "storage/store_factory.h"

#include "storage/local_store.h"

namespace scigate {

Result<StoreMap> make_stores(const Config& config) {
  StoreMap stores;
  for (const auto& [name, p] : config.providers) {
    if (p.type == "file") {
      stores[name] = std::make_shared<LocalObjectStore>(name, p.root, config.server.public_url,
                                                        p.signing_key ? p.signing_key->value() : "");
    } else {
      return Error::internal_error("provider " + name + ": unsupported type " + p.type);
    }
  }
  return stores;
}

}  // namespace scigate
