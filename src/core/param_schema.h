// A workflow's parameters: a small, explicit subset of JSON Schema.
//
// Supported per parameter: type (string, integer, number, boolean, array, object),
// description, default, enum, minimum, maximum, minLength, maxLength (characters, strings
// only), required. Built from config (local engine) or from an engine's own description
// (Airflow DAG params). Every schema is also bounded by ParamLimits, so that a request can
// never smuggle an arbitrarily large value into a run's conf, whatever the workflow says.
// Immutable after construction; safe to share between threads.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace scigate {

struct ParamSpec {
  std::string name;
  std::string type;  // empty = any
  std::string description;
  std::optional<boost::json::value> default_value;
  std::vector<boost::json::value> enum_values;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<size_t> min_length;  // in characters (Unicode code points), as JSON Schema counts
  std::optional<size_t> max_length;
  bool required = false;
};

// Bounds that apply to every workflow's parameters (config: engine.max_param_bytes and
// engine.max_params_bytes).
struct ParamLimits {
  // A parameter's value (UTF-8 bytes of a string, serialized JSON otherwise) may not be
  // larger, unless it is a string whose parameter declares its own maxLength.
  size_t max_param_bytes = 64 << 10;
  // All parameters of a run together, serialized as JSON.
  size_t max_params_bytes = 256 << 10;
};

class ParamSchema {
 public:
  ParamSchema() = default;
  explicit ParamSchema(std::vector<ParamSpec> specs, ParamLimits limits = {})
      : specs_(std::move(specs)), limits_(limits) {}

  // Reads {name: {type, default, ...}}. Errors name the offending parameter and key; a
  // default must itself pass the parameter's type, length, range and enum.
  static Result<ParamSchema> from_properties(const boost::json::object& properties, ParamLimits limits = {});

  // Checks `given` and returns it with defaults applied. A 400 names the parameter:
  // unknown parameter, wrong type, out of range, not in enum, too short or too long,
  // missing required; or says that all parameters together are too large.
  Result<boost::json::object> validate(const boost::json::object& given) const;

  // {"type":"object","properties":{...},"required":[...],"additionalProperties":false}
  boost::json::object to_json_schema() const;

  const std::vector<ParamSpec>& specs() const { return specs_; }
  const ParamLimits& limits() const { return limits_; }
  // The same parameters under other limits (e.g. an Airflow DAG's, under the config's).
  ParamSchema with_limits(ParamLimits limits) const { return ParamSchema(specs_, limits); }

 private:
  std::vector<ParamSpec> specs_;
  ParamLimits limits_;
};

// "string", "integer", ... for a JSON value (integers are numbers without fraction).
const char* json_type_name(const boost::json::value& v);

}  // namespace scigate
