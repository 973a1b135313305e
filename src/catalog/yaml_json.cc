#include "catalog/yaml_json.h"

#include <cerrno>
#include <cstdlib>

namespace json = boost::json;

namespace scigate {

namespace {
json::value scalar_to_json(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return json::string(s);  // quoted: always a string
  if (s == "null" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  errno = 0;
  char* end = nullptr;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && end && *end == '\0') return i;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno == 0 && end && *end == '\0') return d;
  return json::string(s);
}
}  // namespace

json::value yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json::object o;
      for (const auto& kv : node) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json::array a;
      for (const auto& item : node) a.push_back(yaml_to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    default:
      return nullptr;
  }
}

}  // namespace scigate
