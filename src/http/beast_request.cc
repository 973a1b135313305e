#include "http/beast_request.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "http/metrics.h"

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

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

std::optional<Error> refuse_header(const BeastRequest& msg) {
  namespace http = boost::beast::http;
  if (!is_known_method(msg.method_string())) {
    return Error{ErrorCode::kNotImplemented, "unknown method", "method not implemented"};
  }
  if (msg.count(http::field::transfer_encoding) > 0) {
    bool only_chunked = msg.count(http::field::transfer_encoding) == 1 &&
                        iequals(trim(msg[http::field::transfer_encoding]), "chunked") &&
                        msg.count(http::field::content_length) == 0 && msg.version() == 11;
    if (!only_chunked) return Error::bad_request("unsupported Transfer-Encoding (only 'chunked' is accepted)");
  }
  if (msg.count(http::field::authorization) > 1) return Error::bad_request("more than one Authorization header");
  return std::nullopt;
}

bool expects_continue(const BeastRequest& msg) {
  return msg.version() == 11 && iequals(trim(msg[boost::beast::http::field::expect]), "100-continue");
}

}  // namespace scigate
