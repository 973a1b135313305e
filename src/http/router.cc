#include "http/router.h"

#include "core/key_path.h"

namespace scigate {

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Matches `path` against `pattern`; fills params and tail.
bool matches(std::string_view pattern, std::string_view path, std::map<std::string, std::string>& params,
             std::string& tail) {
  auto pat = split(pattern);
  std::string_view rest = path.empty() ? path : path.substr(1);
  size_t consumed = 0;
  for (size_t i = 0; i < pat.size(); ++i) {
    std::string_view p = pat[i];
    bool is_tail = p.size() > 5 && p.substr(p.size() - 4) == "...}";
    if (is_tail) {
      tail = std::string(rest.substr(std::min(consumed, rest.size())));
      return true;
    }
    if (consumed > rest.size()) return false;
    size_t end = rest.find('/', consumed);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view seg = rest.substr(consumed, end - consumed);
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      std::string decoded;
      if (seg.empty() || !percent_decode(seg, decoded)) return false;
      params[std::string(p.substr(1, p.size() - 2))] = std::move(decoded);
    } else if (seg != p) {
      return false;
    }
    consumed = end + 1;
    if (i + 1 == pat.size() && end != rest.size()) return false;
    // The pattern goes on but the path ended: only a trailing tail may follow.
    if (end == rest.size() && i + 1 < pat.size()) {
      std::string_view next = pat[i + 1];
      bool next_is_tail = next.size() > 5 && next.substr(next.size() - 4) == "...}";
      if (!(next_is_tail && i + 2 == pat.size())) return false;
      tail.clear();
      return true;
    }
  }
  return true;
}

}  // namespace

void Router::add(Route route) { routes_.push_back(std::move(route)); }

RouteMatch Router::match(Request& request) const {
  RouteMatch result;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    std::string tail;
    if (!matches(route.pattern, request.path, params, tail)) continue;
    if (!result.path_known)
      result.path_known = true;
    else
      result.allowed_methods += ", ";
    result.allowed_methods += route.method;
    if (route.method == "GET") result.allowed_methods += ", HEAD";
    // HEAD is GET without the body (RFC 9110 §9.3.2): the server drops the body.
    bool same = route.method == request.method || (request.method == "HEAD" && route.method == "GET");
    if (same && result.route == nullptr) {
      result.route = &route;
      request.path_params = std::move(params);
      request.tail = std::move(tail);
    }
  }
  return result;
}

}  // namespace scigate
