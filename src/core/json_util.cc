#include "core/json_util.h"

namespace json = boost::json;

namespace scigate {

Result<json::value> parse_json(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return Error::bad_request("malformed JSON: " + ec.message());
  return v;
}

std::string string_or(const json::object& obj, std::string_view key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->value().is_string()) return fallback;
  return std::string(it->value().get_string());
}

}  // namespace scigate
