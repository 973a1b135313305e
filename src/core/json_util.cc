#include "core/json_util.h"

#include "core/utf8.h"

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

void append_json_string(std::string& out, std::string_view text) {
  std::string repaired;
  if (!valid_utf8(text)) text = repaired = repair_utf8(text);
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string string_or(const json::object& obj, std::string_view key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->value().is_string()) return fallback;
  return std::string(it->value().get_string());
}

}  // namespace scigate
