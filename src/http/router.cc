#include "http/router.h"

#include "core/key_path.h"

namespace scigate {

void Router::add(Route route) {
  std::vector<Segment> segments;
  std::string_view p = route.pattern;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  for (size_t start = 0; start <= p.size();) {
    size_t end = std::min(p.find('/', start), p.size());
    std::string_view seg = p.substr(start, end - start);
    if (seg.size() > 5 && seg.ends_with("...}"))
      segments.push_back({Segment::kTail, std::string(seg.substr(1, seg.size() - 5))});
    else if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
      segments.push_back({Segment::kParam, std::string(seg.substr(1, seg.size() - 2))});
    else
      segments.push_back({Segment::kLiteral, std::string(seg)});
    start = end + 1;
  }
  patterns_.push_back(std::move(segments));
  routes_.push_back(std::move(route));
}

// Matches `path` against a split pattern; fills params and tail. A tail segment (always
// last) takes the encoded rest, which may be empty.
bool Router::matches(const std::vector<Segment>& pattern, std::string_view path,
                     std::map<std::string, std::string>& params, std::string& tail) {
  std::string_view rest = path.empty() ? path : path.substr(1);
  size_t consumed = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const Segment& p = pattern[i];
    if (p.kind == Segment::kTail) {
      tail = std::string(rest.substr(std::min(consumed, rest.size())));
      return true;
    }
    if (consumed > rest.size()) return false;
    size_t end = std::min(rest.find('/', consumed), rest.size());
    std::string_view seg = rest.substr(consumed, end - consumed);
    if (p.kind == Segment::kParam) {
      std::string decoded;
      if (seg.empty() || !percent_decode(seg, decoded)) return false;
      params[p.text] = std::move(decoded);
    } else if (seg != p.text) {
      return false;
    }
    consumed = end + 1;
    if (i + 1 == pattern.size() && end != rest.size()) return false;
    // The pattern goes on but the path ended: only a trailing tail may follow.
    if (end == rest.size() && i + 1 < pattern.size()) {
      if (!(pattern[i + 1].kind == Segment::kTail && i + 2 == pattern.size())) return false;
      tail.clear();
      return true;
    }
  }
  return true;
}

RouteMatch Router::match(Request& request) const {
  RouteMatch result;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Route& route = routes_[r];
    std::map<std::string, std::string> params;
    std::string tail;
    if (!matches(patterns_[r], request.path, params, tail)) continue;
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
