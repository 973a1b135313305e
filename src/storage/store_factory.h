// Builds one ObjectStore per configured provider, once, at startup.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "catalog/config.h"
#include "storage/object_store.h"

namespace scigate {

using StoreMap = std::map<std::string, std::shared_ptr<ObjectStore>>;

Result<StoreMap> make_stores(const Config& config);

}  // namespace scigate
