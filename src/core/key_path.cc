#include "core/key_path.h"

#include "core/utf8.h"

namespace scigate {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status check_segment(const std::string& seg) {
  if (seg == "." || seg == "..") return Error::bad_request("path may not contain '.' or '..'");
  for (unsigned char c : seg) {
    if (c == '/') return Error::bad_request("path may not contain encoded slashes");
    if (c == '\\') return Error::bad_request("path may not contain backslashes");
    if (c < 0x20 || c == 0x7f) return Error::bad_request("path may not contain control characters");
  }
  // Keys end up in JSON listings and S3 requests, both of which need UTF-8.
  if (!valid_utf8(seg)) return Error::bad_request("path must be valid UTF-8");
  return ok_status();
}
}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::string percent_encode(std::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<RelativeKey> parse_relative_key(std::string_view encoded) {
  RelativeKey key;
  if (encoded.empty()) {
    key.is_folder = true;
    return key;
  }
  if (encoded.front() == '/') return Error::bad_request("path must be relative");
  if (encoded.back() == '/') {
    key.is_folder = true;
    encoded.remove_suffix(1);
  }
  std::string decoded;
  size_t start = 0;
  while (start <= encoded.size()) {
    size_t end = encoded.find('/', start);
    if (end == std::string_view::npos) end = encoded.size();
    std::string_view raw = encoded.substr(start, end - start);
    if (raw.empty()) return Error::bad_request("path may not contain empty segments");
    if (!percent_decode(raw, decoded)) return Error::bad_request("path has an invalid percent escape");
    if (auto st = check_segment(decoded); !st) return st.error();
    if (!key.path.empty()) key.path.push_back('/');
    key.path += decoded;
    start = end + 1;
  }
  return key;
}

std::string join_key(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (out.empty()) return std::string(b);
  if (b.empty()) return out;
  out.push_back('/');
  out += b;
  return out;
}

}  // namespace scigate
