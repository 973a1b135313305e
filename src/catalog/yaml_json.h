// YAML → JSON conversion for config values that are JSON-shaped (workflow params).
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "core/error.h"

namespace scigate {

// Plain scalars become null/bool/integer/number when they read as one; quoted scalars
// stay strings. Aliases and tags other than the defaults are treated as plain values.
// kBadRequest for what JSON cannot hold or what would not end: a mapping key that is not
// a scalar, nesting deeper than 64 (an alias inside its own anchor never ends), more than
// 100000 values once aliases are expanded.
Result<boost::json::value> yaml_to_json(const YAML::Node& node);

}  // namespace scigate
