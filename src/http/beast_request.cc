#include "http/beast_request.h"

#include <cctype>
#include <cstdint>

namespace scigate {

void limit_parser(BeastRequestParser& parser, size_t max_header_bytes, size_t max_body_bytes) {
  parser.header_limit(static_cast<uint32_t>(max_header_bytes));
  parser.body_limit(max_body_bytes);
}

Request to_request(const BeastRequest& msg) {
  Request req;
  req.method = std::string(msg.method_string());
  std::string_view target = msg.target();
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = parse_query(target.substr(q + 1));
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.body = msg.body();
  return req;
}

}  // namespace scigate
