// The route table: (method, pattern) → handler. Patterns are '/'-separated literals,
// `{name}` (one segment, percent-decoded into path_params) and a final `{name...}` (the
// encoded rest, possibly empty, into Request::tail). Built once at startup, then only
// read: thread-safe for matching.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/request.h"

namespace scigate {

using Handler = std::function<Response(const RequestContext&, const Request&)>;

// Who may call a route. kOptional: a bearer token is verified when one is sent (401 if
// it is bad), else the handler runs with an empty username and must authorize the
// request itself (e.g. from a signed URL a map library fetches without a token).
enum class Auth { kNone, kRequired, kOptional };

struct Route {
  std::string method;
  std::string pattern;  // also the metrics label
  Auth auth = Auth::kRequired;
  bool blocking = true;  // false: cheap enough to run on the I/O thread
  Handler handler;
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route
  bool path_known = false;       // some route has this path (405 / CORS preflight)
  std::string allowed_methods;   // "GET, HEAD, POST" when path_known
};

class Router {
 public:
  void add(Route route);
  // Fills request.path_params / request.tail on a match. A path param with an invalid
  // percent escape does not match. HEAD matches the GET route of a path.
  RouteMatch match(Request& request) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  // A pattern split once at add(), so matching a request allocates nothing per route.
  struct Segment {
    enum Kind { kLiteral, kParam, kTail } kind;
    std::string text;  // the literal, or the parameter's name
  };
  static bool matches(const std::vector<Segment>& pattern, std::string_view path,
                      std::map<std::string, std::string>& params, std::string& tail);

  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> patterns_;  // parallel to routes_
};

}  // namespace scigate
