#include "lambda/events.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <map>

#include "core/base64.h"
#include "core/json_util.h"
#include "core/key_path.h"
#include "core/utf8.h"

namespace scigate::lambda {

namespace json = boost::json;

namespace {

// The seed's function names first (its openapi.yml's integrations), then scigate's own
// routes under names of the same style. Patterns are the router's (api/routes.cc).
const std::vector<Operation> kOperations = {
    {"listworkflows", "GET", "/workflows"},
    {"describeworkflow", "GET", "/workflows/{id}"},
    {"createrun", "POST", "/workflows/{id}/runs"},
    {"listruns", "GET", "/workflows/{id}/runs"},
    {"browseoutputs", "GET", "/output-data/{prefix...}"},
    {"updateoutput", "PUT", "/output-data/{prefix...}"},
    // The seed answered GET /data-selections with "not implemented"; scigate implements it.
    {"notimplemented", "GET", "/data-selections"},
    {"listdataselections", "GET", "/data-selections"},
    {"browsedataselection", "GET", "/data-selections/{id}/files/{path...}"},
    {"getrun", "GET", "/runs/{run_id}"},
    {"cancelrun", "POST", "/runs/{run_id}/cancel"},
    {"runlogs", "GET", "/runs/{run_id}/logs"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

const json::object* object_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

// A string member, or nullopt when absent or null. `ok` turns false for another type.
std::optional<std::string> string_at(const json::object& o, std::string_view key, bool& ok) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_string()) {
    ok = false;
    return std::nullopt;
  }
  return std::string(it->value().get_string());
}

Error bad_event(const std::string& why) { return Error::bad_request("unusable event: " + why); }

// A member that must be an object of strings (headers, queryStringParameters,
// pathParameters) or null.
Result<std::map<std::string, std::string>> string_map(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_object()) return bad_event(std::string(key) + " is not an object");
  for (const auto& [k, v] : it->value().get_object()) {
    if (!v.is_string()) return bad_event(std::string(key) + "." + std::string(k) + " is not a string");
    out[std::string(k)] = std::string(v.get_string());
  }
  return out;
}

// multiValueHeaders / multiValueQueryStringParameters: an object of string lists, or null.
Result<std::vector<std::pair<std::string, std::string>>> string_lists(const json::object& o, std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_object()) return bad_event(std::string(key) + " is not an object");
  for (const auto& [k, v] : it->value().get_object()) {
    if (!v.is_array()) return bad_event(std::string(key) + "." + std::string(k) + " is not a list");
    for (const auto& item : v.get_array()) {
      if (!item.is_string()) return bad_event(std::string(key) + "." + std::string(k) + " holds a non-string");
      out.emplace_back(std::string(k), std::string(item.get_string()));
    }
  }
  return out;
}

// A path as API Gateway hands it (decoded, or partly) made safe for the router, which
// decodes segments itself: characters a path may not carry are percent-encoded, escapes
// already there are kept.
std::string encode_path(std::string_view path) {
  static constexpr std::string_view kKeep = "/-._~!$&'()*+,;=:@%";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out += percent_encode(std::string_view(reinterpret_cast<const char*>(&c), 1), false);
    }
  }
  return out;
}

// The operation's pattern with each {name} filled from pathParameters (decoded values:
// a one-segment parameter is encoded whole, a {name...} tail keeps its slashes).
Result<std::string> fill_pattern(std::string_view pattern, const std::map<std::string, std::string>& params) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find('{', pos);
    if (open == std::string_view::npos) {
      out += pattern.substr(pos);
      break;
    }
    out += pattern.substr(pos, open - pos);
    size_t close = pattern.find('}', open);
    std::string_view name = pattern.substr(open + 1, close - open - 1);
    bool tail = name.size() > 3 && name.substr(name.size() - 3) == "...";
    if (tail) name.remove_suffix(3);
    auto it = params.find(std::string(name));
    if (it == params.end() || it->second.empty()) {
      return bad_event("pathParameters." + std::string(name) + " is missing");
    }
    out += percent_encode(it->second, /*keep_slash=*/tail);
    pos = close + 1;
  }
  return out;
}

// A v2 rawPath carries the stage ("/dev/workflows") unless the stage is $default.
std::string strip_stage(std::string path, const json::object* request_context) {
  if (request_context == nullptr) return path;
  bool ok = true;
  auto stage = string_at(*request_context, "stage", ok);
  if (!stage || stage->empty() || *stage == "$default") return path;
  std::string prefix = "/" + *stage;
  if (path == prefix) return "/";
  if (path.rfind(prefix + "/", 0) == 0) return path.substr(prefix.size());
  return path;
}

std::optional<std::string> authorizer_username(const json::object* request_context, PayloadFormat format) {
  if (request_context == nullptr) return std::nullopt;
  const json::object* authorizer = object_at(*request_context, "authorizer");
  if (authorizer == nullptr) return std::nullopt;
  // HTTP API Lambda authorizers put their context under "lambda"; REST authorizers at the top.
  if (format == PayloadFormat::kV2) {
    if (const json::object* l = object_at(*authorizer, "lambda")) authorizer = l;
  }
  bool ok = true;
  auto name = string_at(*authorizer, "username", ok);
  return ok ? name : std::nullopt;
}

Result<std::vector<std::pair<std::string, std::string>>> query_of(const json::object& event, PayloadFormat format) {
  if (format == PayloadFormat::kV2) {
    bool ok = true;
    auto raw = string_at(event, "rawQueryString", ok);
    if (!ok) return bad_event("rawQueryString is not a string");
    return raw ? parse_query(*raw) : std::vector<std::pair<std::string, std::string>>{};
  }
  auto multi = string_lists(event, "multiValueQueryStringParameters");
  if (!multi) return multi.error();
  if (!multi->empty()) return multi;
  auto single = string_map(event, "queryStringParameters");
  if (!single) return single.error();
  return std::vector<std::pair<std::string, std::string>>(single->begin(), single->end());
}

Status headers_of(const json::object& event, PayloadFormat format, Request& req) {
  auto single = string_map(event, "headers");
  if (!single) return single.error();
  for (const auto& [k, v] : *single) req.headers[lower(k)] = v;
  if (format == PayloadFormat::kV1) {
    auto multi = string_lists(event, "multiValueHeaders");
    if (!multi) return multi.error();
    std::map<std::string, int> authorization_count;
    for (const auto& [k, v] : *multi) {
      std::string name = lower(k);
      if (name == "authorization" && ++authorization_count[name] > 1) {
        return Error::bad_request("repeated Authorization header");  // as the server refuses it
      }
      req.headers[name] = v;  // the last of a repeated header wins, as in the server
    }
  } else {
    auto it = event.find("cookies");
    if (it != event.end() && it->value().is_array()) {
      std::string cookie;
      for (const auto& c : it->value().get_array()) {
        if (!c.is_string()) return bad_event("cookies holds a non-string");
        if (!cookie.empty()) cookie += "; ";
        cookie += c.get_string();
      }
      if (!cookie.empty()) req.headers["cookie"] = cookie;
    }
  }
  return ok_status();
}

Status body_of(const json::object& event, const EventLimits& limits, Request& req) {
  bool ok = true;
  auto body = string_at(event, "body", ok);
  if (!ok) return bad_event("body is not a string");
  if (!body) return ok_status();
  auto b64 = event.find("isBase64Encoded");
  if (b64 != event.end() && b64->value().is_bool() && b64->value().get_bool()) {
    if (!base64_decode(*body, req.body)) return Error::bad_request("body is not valid base64 (isBase64Encoded)");
  } else {
    req.body = std::move(*body);
  }
  if (req.body.size() > limits.max_body_bytes) {
    return Error{ErrorCode::kPayloadTooLarge, "body too large", "request body too large"};
  }
  return ok_status();
}

}  // namespace

const std::vector<Operation>& operations() { return kOperations; }

const Operation* find_operation(std::string_view name) {
  for (const auto& op : kOperations) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

PayloadFormat guess_format(std::string_view text) {
  auto v = parse_json(text);
  if (!v || !v->is_object()) return PayloadFormat::kV1;
  bool ok = true;
  auto version = string_at(v->get_object(), "version", ok);
  return version && *version == "2.0" ? PayloadFormat::kV2 : PayloadFormat::kV1;
}

Result<ApiEvent> parse_event(std::string_view text, const Operation* fixed, const EventLimits& limits) {
  auto parsed = parse_json(text);
  if (!parsed) return bad_event("not JSON");
  if (!parsed->is_object()) return bad_event("not a JSON object");
  const json::object& event = parsed->get_object();
  ApiEvent out;
  bool ok = true;
  auto version = string_at(event, "version", ok);
  out.format = version && *version == "2.0" ? PayloadFormat::kV2 : PayloadFormat::kV1;
  const json::object* context = object_at(event, "requestContext");
  Request& req = out.request;

  std::optional<std::string> method, path;
  if (out.format == PayloadFormat::kV2) {
    const json::object* http = context ? object_at(*context, "http") : nullptr;
    if (http) method = string_at(*http, "method", ok);
    path = string_at(event, "rawPath", ok);
    if (path) path = strip_stage(*path, context);
  } else {
    method = string_at(event, "httpMethod", ok);
    path = string_at(event, "path", ok);
  }
  if (!ok) return bad_event("httpMethod, path or rawPath is not a string");

  if (auto q = query_of(event, out.format); q) {
    req.query = std::move(q).value();
  } else {
    return q.error();
  }
  if (auto st = headers_of(event, out.format, req); !st) return st.error();
  if (auto st = body_of(event, limits, req); !st) return st.error();
  out.authorizer_username = authorizer_username(context, out.format);

  if (fixed != nullptr) {
    // The operation decides the route; the event only fills its parameters. The seed's
    // listworkflows answered both GET /workflows and GET /data-selections/workflows?data_id=.
    auto params = string_map(event, "pathParameters");
    if (!params) return params.error();
    std::string_view pattern = fixed->pattern;
    if (fixed->name == "listworkflows" && req.has_query_param("data_id")) pattern = "/data-selections/workflows";
    auto filled = fill_pattern(pattern, *params);
    if (!filled) return filled.error();
    req.method = std::string(fixed->method);
    req.path = std::move(filled).value();
    return out;
  }
  if (!method || !path) {
    return bad_event(out.format == PayloadFormat::kV2
                         ? "an HTTP API event needs requestContext.http.method and rawPath"
                         : "no httpMethod and path (or version 2.0 with rawPath); with one function per operation, "
                           "set SCIGATE_OPERATION");
  }
  if (method->empty() || method->size() > 16) return bad_event("httpMethod is not a method");
  for (char& c : *method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (path->empty() || path->front() != '/') return bad_event("the path does not start with /");
  req.method = std::move(*method);
  req.path = encode_path(*path);
  return out;
}

bool is_text_content_type(std::string_view content_type) {
  std::string t = lower(content_type.substr(0, content_type.find(';')));
  if (t.empty() || t.rfind("text/", 0) == 0) return true;
  for (std::string_view marker : {"json", "xml", "javascript", "svg", "x-www-form-urlencoded", "yaml"}) {
    if (t.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string format_response(const Response& response, PayloadFormat format, bool head) {
  json::object out;
  out["statusCode"] = response.status;
  // Every header with its values in order; Content-Type first, as the server sends it.
  std::vector<std::pair<std::string, std::string>> all;
  if (!response.content_type.empty()) all.emplace_back("Content-Type", response.content_type);
  for (const auto& h : response.headers) all.push_back(h);

  if (format == PayloadFormat::kV1) {
    json::object single, multi;
    for (const auto& [k, v] : all) {
      single[k] = v;  // the last value; API Gateway merges both maps, equal pairs once
      auto it = multi.find(k);
      if (it == multi.end()) {
        multi[k] = json::array{json::string(v)};
      } else {
        it->value().get_array().emplace_back(v);
      }
    }
    out["headers"] = std::move(single);
    out["multiValueHeaders"] = std::move(multi);
  } else {
    json::object headers;
    json::array cookies;
    for (const auto& [k, v] : all) {
      if (lower(k) == "set-cookie") {
        cookies.emplace_back(v);
        continue;
      }
      auto it = headers.find(k);
      if (it == headers.end()) {
        headers[k] = v;
      } else {
        std::string joined = std::string(it->value().get_string()) + ", " + v;
        it->value() = joined;
      }
    }
    out["headers"] = std::move(headers);
    if (!cookies.empty()) out["cookies"] = std::move(cookies);
  }
  std::string_view body = head ? std::string_view() : std::string_view(response.body);
  bool binary = !is_text_content_type(response.content_type) || !valid_utf8(body);
  out["body"] = binary ? base64_encode(body) : body;
  out["isBase64Encoded"] = binary;
  return to_json_text(out);
}

}  // namespace scigate::lambda
