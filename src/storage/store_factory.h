// Builds one ObjectStore per configured provider, once, at startup.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "catalog/config.h"
#include "credentials/credentials_provider.h"
#include "storage/object_store.h"

namespace scigate {

using StoreMap = std::map<std::string, std::shared_ptr<ObjectStore>>;

// `credentials` has an entry for every `type: s3` provider (make_provider_credentials).
// `signing_key` signs the links of `type: file` providers that have no key of their own.
Result<StoreMap> make_stores(const Config& config, const CredentialsMap& credentials, const std::string& signing_key);

}  // namespace scigate
