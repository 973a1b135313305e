// YAML → JSON conversion for config values that are JSON-shaped (workflow params).
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

namespace scigate {

// Plain scalars become null/bool/integer/number when they read as one; quoted scalars
// stay strings. Aliases and tags other than the defaults are treated as plain values.
boost::json::value yaml_to_json(const YAML::Node& node);

}  // namespace scigate
