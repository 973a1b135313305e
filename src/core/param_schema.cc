#include "core/param_schema.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "core/json_util.h"

namespace json = boost::json;

namespace scigate {

namespace {
constexpr const char* kTypes[] = {"string", "integer", "number", "boolean", "array", "object"};

bool is_integer_value(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (v.is_double()) {
    double d = v.get_double();
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.007199254740992e15;
  }
  return false;
}

bool matches_type(const std::string& type, const json::value& v) {
  if (type.empty()) return true;
  if (type == "string") return v.is_string();
  if (type == "integer") return is_integer_value(v);
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_bool();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

double as_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

std::optional<double> number_field(const json::object& o, const char* key, bool& bad) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_number()) {
    bad = true;
    return std::nullopt;
  }
  return as_double(it->value());
}

// A non-negative integer field (minLength, maxLength); `bad` when present but not one.
std::optional<size_t> length_field(const json::object& o, const char* key, bool& bad) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!is_integer_value(it->value()) || as_double(it->value()) < 0) {
    bad = true;
    return std::nullopt;
  }
  return static_cast<size_t>(as_double(it->value()));
}

// JSON Schema counts a string's length in code points, not bytes.
size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string value_problem(const ParamSpec& spec, const json::value& v);

Result<ParamSpec> spec_from_json(const std::string& name, const json::value& raw) {
  auto fail = [&](const std::string& what) { return Error::bad_request("parameter '" + name + "': " + what); };
  if (!raw.is_object()) return fail("must be a mapping");
  const json::object& o = raw.get_object();
  ParamSpec spec;
  spec.name = name;
  static constexpr const char* kKeys[] = {"type",    "description", "default",   "enum",     "minimum",
                                          "maximum", "minLength",   "maxLength", "required", "title"};
  for (const auto& kv : o) {
    if (std::none_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return kv.key() == k; })) {
      return fail("unknown key '" + std::string(kv.key()) + "'");
    }
  }
  if (auto it = o.find("type"); it != o.end()) {
    if (!it->value().is_string()) return fail("type must be a string");
    spec.type = std::string(it->value().get_string());
    if (std::none_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return spec.type == t; })) {
      return fail("unsupported type '" + spec.type + "'");
    }
  }
  if (auto it = o.find("description"); it != o.end() && it->value().is_string()) {
    spec.description = std::string(it->value().get_string());
  }
  bool bad = false;
  spec.minimum = number_field(o, "minimum", bad);
  spec.maximum = number_field(o, "maximum", bad);
  if (bad) return fail("minimum/maximum must be numbers");
  spec.min_length = length_field(o, "minLength", bad);
  spec.max_length = length_field(o, "maxLength", bad);
  if (bad) return fail("minLength/maxLength must be non-negative integers");
  if ((spec.min_length || spec.max_length) && !spec.type.empty() && spec.type != "string") {
    return fail("minLength/maxLength apply to strings only");
  }
  if (spec.min_length && spec.max_length && *spec.min_length > *spec.max_length) {
    return fail("minLength is larger than maxLength");
  }
  if (auto it = o.find("enum"); it != o.end()) {
    if (!it->value().is_array()) return fail("enum must be a list");
    for (const auto& v : it->value().get_array()) spec.enum_values.push_back(v);
  }
  if (auto it = o.find("required"); it != o.end()) {
    if (!it->value().is_bool()) return fail("required must be true or false");
    spec.required = it->value().get_bool();
  }
  if (auto it = o.find("default"); it != o.end() && !it->value().is_null()) {
    if (!matches_type(spec.type, it->value())) return fail("default does not match type " + spec.type);
    // A default is applied unchecked to every run that omits the parameter, so it must
    // pass the parameter's own range and enum.
    if (auto problem = value_problem(spec, it->value()); !problem.empty()) return fail("default " + problem);
    spec.default_value = it->value();
  }
  return spec;
}

// 16 stays 16 in JSON rather than 1.6E1.
json::value number_json(double d) {
  if (std::floor(d) == d && std::fabs(d) < 9.007199254740992e15) return static_cast<int64_t>(d);
  return d;
}

// Why `v` does not fit `spec` (type, length, range, enum), or "" when it fits.
std::string value_problem(const ParamSpec& spec, const json::value& v) {
  if (!matches_type(spec.type, v)) return "must be of type " + spec.type + ", got " + json_type_name(v);
  if (v.is_string()) {
    size_t chars = utf8_length(v.get_string());
    if (spec.min_length && chars < *spec.min_length)
      return "must be at least " + std::to_string(*spec.min_length) + " characters long";
    if (spec.max_length && chars > *spec.max_length)
      return "must be at most " + std::to_string(*spec.max_length) + " characters long";
  }
  if (v.is_number()) {
    double d = as_double(v);
    if (spec.minimum && d < *spec.minimum) return "must be >= " + to_json_text(number_json(*spec.minimum));
    if (spec.maximum && d > *spec.maximum) return "must be <= " + to_json_text(number_json(*spec.maximum));
  }
  if (!spec.enum_values.empty() &&
      std::none_of(spec.enum_values.begin(), spec.enum_values.end(), [&](const json::value& e) {
        return e == v || (e.is_number() && v.is_number() && as_double(e) == as_double(v));
      })) {
    return "must be one of " + to_json_text(json::array(spec.enum_values.begin(), spec.enum_values.end()));
  }
  return "";
}

// The configured bound on values that have no maxLength of their own (a declared
// maxLength replaces it: the operator chose it knowingly).
std::string size_problem(const ParamSpec& spec, const json::value& v, const ParamLimits& limits) {
  if (v.is_string() && !spec.max_length && v.get_string().size() > limits.max_param_bytes) {
    return "is too long: " + std::to_string(v.get_string().size()) + " bytes, at most " +
           std::to_string(limits.max_param_bytes) + " allowed";
  }
  if (v.is_array() || v.is_object()) {
    size_t bytes = json::serialize(v).size();
    if (bytes > limits.max_param_bytes)
      return "is too large: " + std::to_string(bytes) + " bytes as JSON, at most " +
             std::to_string(limits.max_param_bytes) + " allowed";
  }
  return "";
}

Status check_value(const ParamSpec& spec, const json::value& v, const ParamLimits& limits) {
  std::string problem = value_problem(spec, v);
  if (problem.empty()) problem = size_problem(spec, v, limits);
  if (!problem.empty()) return Error::bad_request("parameter '" + spec.name + "' " + problem);
  return ok_status();
}
}  // namespace

const char* json_type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return is_integer_value(v) ? "integer" : "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

Result<ParamSchema> ParamSchema::from_properties(const json::object& properties, ParamLimits limits) {
  std::vector<ParamSpec> specs;
  for (const auto& kv : properties) {
    auto spec = spec_from_json(std::string(kv.key()), kv.value());
    if (!spec) return spec.error();
    specs.push_back(std::move(spec).value());
  }
  return ParamSchema(std::move(specs), limits);
}

Result<json::object> ParamSchema::validate(const json::object& given) const {
  for (const auto& kv : given) {
    bool known = std::any_of(specs_.begin(), specs_.end(), [&](const ParamSpec& s) { return s.name == kv.key(); });
    if (!known) return Error::bad_request("unknown parameter '" + std::string(kv.key()) + "'");
  }
  json::object out;
  for (const auto& spec : specs_) {
    auto it = given.find(spec.name);
    if (it == given.end() || it->value().is_null()) {
      if (spec.default_value) {
        out[spec.name] = *spec.default_value;
      } else if (spec.required) {
        return Error::bad_request("parameter '" + spec.name + "' is required");
      }
      continue;
    }
    if (auto st = check_value(spec, it->value(), limits_); !st) return st.error();
    out[spec.name] = it->value();
  }
  // Each value may be within bounds and all of them together still too much for a conf.
  if (size_t bytes = json::serialize(out).size(); bytes > limits_.max_params_bytes) {
    return Error::bad_request("parameters are too large: " + std::to_string(bytes) + " bytes as JSON, at most " +
                              std::to_string(limits_.max_params_bytes) + " allowed");
  }
  return out;
}

json::object ParamSchema::to_json_schema() const {
  json::object props;
  json::array required;
  for (const auto& spec : specs_) {
    json::object p;
    if (!spec.type.empty()) p["type"] = spec.type;
    if (!spec.description.empty()) p["description"] = spec.description;
    if (spec.default_value) p["default"] = *spec.default_value;
    if (!spec.enum_values.empty()) p["enum"] = json::array(spec.enum_values.begin(), spec.enum_values.end());
    if (spec.minimum) p["minimum"] = number_json(*spec.minimum);
    if (spec.maximum) p["maximum"] = number_json(*spec.maximum);
    if (spec.min_length) p["minLength"] = *spec.min_length;
    if (spec.max_length) p["maxLength"] = *spec.max_length;
    props[spec.name] = std::move(p);
    if (spec.required) required.push_back(json::string(spec.name));
  }
  json::object schema{{"type", "object"}, {"properties", std::move(props)}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

}  // namespace scigate
