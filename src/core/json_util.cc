#include "core/json_util.h"

#include <charconv>
#include <cmath>

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
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
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

namespace {

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Shortest round-trip text; in plain notation for the magnitudes of coordinates,
  // statistics and sizes, where the exponent form (3e-04) is harder to read.
  char buf[64];
  double magnitude = std::fabs(d);
  bool plain = magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e17);
  auto [end, ec] = plain ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<size_t>(end - buf));
  out += text;
  // "-97" would read back as an integer in most clients: keep the value a float.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      append_double(out, v.get_double());
      break;
    case json::kind::string:
      append_json_string(out, v.get_string());
      break;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, item);
      }
      out.push_back(']');
      break;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, kv.key());
        out.push_back(':');
        append_value(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

}  // namespace

std::string to_json_text(const json::value& value) {
  std::string out;
  append_value(out, value);
  return out;
}

std::string string_or(const json::object& obj, std::string_view key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->value().is_string()) return fallback;
  return std::string(it->value().get_string());
}

}  // namespace scigate
