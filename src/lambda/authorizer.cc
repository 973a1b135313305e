#include "lambda/authorizer.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>

#include "core/json_util.h"

namespace scigate::lambda {

namespace json = boost::json;

namespace {

std::string string_member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

// The Authorization value of a REQUEST event: headers are not case-normalised in v1.
std::string authorization_header(const json::object& event) {
  auto it = event.find("headers");
  if (it == event.end() || !it->value().is_object()) return {};
  for (const auto& [k, v] : it->value().get_object()) {
    if (boost::beast::iequals(k, "authorization") && v.is_string()) return std::string(v.get_string());
  }
  return {};
}

}  // namespace

Result<std::string> authorize(std::string_view event_json, const Authenticator& verify) {
  auto parsed = parse_json(event_json);
  if (!parsed || !parsed->is_object()) return Error::bad_request("authorizer event is not a JSON object");
  const json::object& event = parsed->get_object();
  bool v2 = string_member(event, "version") == "2.0";
  std::string resource = string_member(event, v2 ? "routeArn" : "methodArn");
  if (resource.empty() && !v2) return Error::bad_request("authorizer event has no methodArn");
  std::string type = string_member(event, "type");
  std::string authorization =
      type == "TOKEN" ? string_member(event, "authorizationToken") : authorization_header(event);
  if (authorization.empty()) return Error::unauthenticated("no token");
  auto username = verify(authorization);
  if (!username) return username.error();
  json::object context{{"username", *username}};
  if (v2) return to_json_text(json::object{{"isAuthorized", true}, {"context", std::move(context)}});
  json::object statement{{"Action", "execute-api:Invoke"}, {"Effect", "Allow"}, {"Resource", resource}};
  json::object policy{{"Version", "2012-10-17"}, {"Statement", json::array{std::move(statement)}}};
  return to_json_text(
      json::object{{"principalId", *username}, {"policyDocument", std::move(policy)}, {"context", std::move(context)}});
}

}  // namespace scigate::lambda
