#include "http/request.h"

#include <algorithm>
#include <charconv>

#include "core/json_util.h"
#include "core/key_path.h"
#include "core/utf8.h"

namespace scigate {

std::string Request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::query_param(std::string_view name) const {
  for (auto it = query.rbegin(); it != query.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return {};
}

std::vector<std::string> Request::query_params(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool Request::has_query_param(std::string_view name) const {
  return std::any_of(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; });
}

Response Response::json(int status, const boost::json::value& value) {
  Response r;
  r.status = status;
  r.body = to_json_text(value);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::streamed(int status, std::shared_ptr<ByteSource> source, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.stream = std::move(source);
  return r;
}

Response Response::error(const Error& error, const std::string& request_id) {
  // Messages may quote what the caller sent (a path, a name): repaired, so the body stays JSON.
  boost::json::object inner{
      {"code", error_code_name(error.code)}, {"message", repair_utf8(error.client)}, {"request_id", request_id}};
  Response r = json(http_status(error.code), boost::json::object{{"error", std::move(inner)}});
  if (error.code == ErrorCode::kUnauthenticated) r.with_header("WWW-Authenticate", "Bearer");
  if (error.code == ErrorCode::kUnavailable) r.with_header("Retry-After", "1");
  return r;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
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
    if (!dk.empty()) out.emplace_back(std::move(dk), std::move(dv));
    start = end + 1;
  }
  return out;
}

namespace {

// A decimal number with nothing else around it.
std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

RangeRequest parse_range(std::string_view header, uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() <= kUnit.size() || header.substr(0, kUnit.size()) != kUnit) return {};
  std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return {};
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  auto first = parse_u64(spec.substr(0, dash));
  auto last = parse_u64(spec.substr(dash + 1));
  if (!first) {  // "-N": the last N bytes
    if (dash != 0 || !last) return {};
    if (*last == 0 || size == 0) return {RangeRequest::kUnsatisfiable};
    uint64_t n = std::min(*last, size);
    return {RangeRequest::kPartial, size - n, size - 1};
  }
  if (dash + 1 != spec.size() && !last) return {};
  if (last && *last < *first) return {};  // invalid: ignored, as the RFC says
  if (*first >= size) return {RangeRequest::kUnsatisfiable};
  return {RangeRequest::kPartial, *first, std::min(last.value_or(size - 1), size - 1)};
}

}  // namespace scigate
