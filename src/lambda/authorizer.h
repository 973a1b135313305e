// The seed's API Gateway authorizer (`scigate lambda --authorizer`): verifies the caller's
// JWT with the same rules as the server and answers the IAM policy API Gateway caches
// and applies, with the username in the context for the functions behind it
// (requestContext.authorizer.username).
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "http/pipeline.h"

namespace scigate::lambda {

// API Gateway turns an authorizer that fails with exactly this message into a 401.
inline constexpr std::string_view kUnauthorized = "Unauthorized";

// Events: TOKEN (authorizationToken, methodArn), REQUEST (headers with any case of
// Authorization, methodArn) and HTTP API 2.0 REQUEST (headers, routeArn; answered in the
// simple {isAuthorized, context} form). A good token: {principalId, policyDocument
// allowing execute-api:Invoke on methodArn, context {username}}. A missing or bad token
// is kUnauthenticated (the runtime reports kUnauthorized); a malformed event kBadRequest.
Result<std::string> authorize(std::string_view event_json, const Authenticator& verify);

}  // namespace scigate::lambda
