// What happens to a request between its transport and its handler: routing, CORS
// preflight, 404/405, authentication, the handler itself (an exception is a 500), and the
// headers every answer carries. One place for both transports: the Beast server
// (server.cc) and the Lambda adapter (lambda/), so that a request answers the same
// whichever way it came.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/router.h"

namespace scigate {

// Returns the username for an Authorization header value, or the 401 to send.
using Authenticator = std::function<Result<std::string>(std::string_view authorization)>;

// A new request id: 16 hex digits, unique rather than unpredictable.
std::string new_request_id();

class RequestPipeline {
 public:
  RequestPipeline(const Router& router, Authenticator authenticate, std::vector<std::string> cors_allowed_origins)
      : router_(router), authenticate_(std::move(authenticate)), cors_(std::move(cors_allowed_origins)) {}

  // What routing and authentication decide before the body is read: the route to run, or
  // the answer itself (preflight, 404, 405, 401). `route_label` is the metrics label.
  struct Dispatch {
    const Route* route = nullptr;
    std::optional<Response> answer;
    std::string route_label = "unmatched";
  };
  // Fills req.path_params and ctx.username. With `trusted_username` (a Lambda behind API
  // Gateway's authorizer, which already checked the token), that name is the caller and
  // no token is verified; an empty one on a route that needs a caller is a 401.
  Dispatch dispatch(Request& req, RequestContext& ctx,
                    const std::optional<std::string>& trusted_username = std::nullopt) const;
  // Runs the handler; an exception becomes a logged 500.
  static Response call(const Route& route, const RequestContext& ctx, const Request& req);
  // X-Request-Id and, for an allowed Origin, the CORS headers.
  void decorate(Response& resp, const Request& req, const RequestContext& ctx) const;

 private:
  Response preflight(const Request& req, const RouteMatch& m) const;
  bool origin_allowed(const std::string& origin) const;

  const Router& router_;
  Authenticator authenticate_;
  std::vector<std::string> cors_;  // "*" allows any
};

}  // namespace scigate
