// A workflow's parameters: a small, explicit subset of JSON Schema.
//
// Supported per parameter: type (string, integer, number, boolean, array, object),
// description, default, enum, minimum, maximum, required. Built from config (local
// engine) or from an engine's own description (Airflow DAG params). Immutable after
// construction; safe to share between threads.
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
  bool required = false;
};

class ParamSchema {
 public:
  ParamSchema() = default;
  explicit ParamSchema(std::vector<ParamSpec> specs) : specs_(std::move(specs)) {}

  // Reads {name: {type, default, ...}}. Errors name the offending parameter and key; a
  // default must itself pass the parameter's type, range and enum.
  static Result<ParamSchema> from_properties(const boost::json::object& properties);

  // Checks `given` and returns it with defaults applied. A 400 names the parameter:
  // unknown parameter, wrong type, out of range, not in enum, missing required.
  Result<boost::json::object> validate(const boost::json::object& given) const;

  // {"type":"object","properties":{...},"required":[...],"additionalProperties":false}
  boost::json::object to_json_schema() const;

  const std::vector<ParamSpec>& specs() const { return specs_; }

 private:
  std::vector<ParamSpec> specs_;
};

// "string", "integer", ... for a JSON value (integers are numbers without fraction).
const char* json_type_name(const boost::json::value& v);

}  // namespace scigate
