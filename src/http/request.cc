#include "http/request.h"

#include "core/key_path.h"

namespace scigate {

std::string Request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::query_param(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? std::string() : it->second;
}

Response Response::json(int status, const boost::json::value& value) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(value);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::error(const Error& error, const std::string& request_id) {
  boost::json::object inner{
      {"code", error_code_name(error.code)}, {"message", error.client}, {"request_id", request_id}};
  Response r = json(http_status(error.code), boost::json::object{{"error", std::move(inner)}});
  if (error.code == ErrorCode::kUnauthenticated) r.with_header("WWW-Authenticate", "Bearer");
  if (error.code == ErrorCode::kUnavailable) r.with_header("Retry-After", "1");
  return r;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string dk, dv;
    if (!percent_decode(k, dk, true)) dk = std::string(k);
    if (!percent_decode(v, dv, true)) dv = std::string(v);
    if (!dk.empty()) out[dk] = dv;
    start = end + 1;
  }
  return out;
}

}  // namespace scigate
