#include "catalog/yaml_json.h"

#include <cerrno>
#include <cstdlib>

namespace json = boost::json;

namespace scigate {

namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxValues = 100'000;

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

// Aliases share nodes, so a YAML graph may be cyclic or expand exponentially: depth and
// the number of values produced are bounded.
class Converter {
 public:
  Result<json::value> convert(const YAML::Node& node, int depth) {
    if (depth > kMaxDepth) return Error::bad_request("nested too deeply (an alias inside its own anchor?)");
    if (++values_ > kMaxValues) return Error::bad_request("too large once aliases are expanded");
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) return Error::bad_request("mapping keys must be plain strings");
          auto v = convert(kv.second, depth + 1);
          if (!v) return v;
          o[kv.first.Scalar()] = std::move(v).value();
        }
        return json::value(std::move(o));
      }
      case YAML::NodeType::Sequence: {
        json::array a;
        for (const auto& item : node) {
          auto v = convert(item, depth + 1);
          if (!v) return v;
          a.push_back(std::move(v).value());
        }
        return json::value(std::move(a));
      }
      case YAML::NodeType::Scalar:
        return scalar_to_json(node);
      default:
        return json::value(nullptr);
    }
  }

 private:
  size_t values_ = 0;
};

}  // namespace

Result<json::value> yaml_to_json(const YAML::Node& node) { return Converter().convert(node, 0); }

}  // namespace scigate
