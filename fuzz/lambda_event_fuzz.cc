// Lambda events, which API Gateway builds from what callers send (paths, headers, query
// strings, bodies) and which anyone allowed to invoke the function can send whole. Each
// input is read as a proxy event routed by path, as each fixed operation's event and as
// an authorizer event; whatever it holds:
//  - reading it fails only with 400 or 413, never crashes;
//  - a read request has a method and a path the router can take (starts with '/');
//  - the answer made for it is JSON with statusCode, a body that is valid UTF-8 JSON text,
//    and isBase64Encoded;
//  - the authorizer allows only what the token check allowed.
#include <boost/json.hpp>

#include "core/json_util.h"
#include "fuzz_check.h"
#include "lambda/authorizer.h"
#include "lambda/events.h"

namespace json = boost::json;

namespace scigate::lambda {
namespace {

void check_request(const Result<ApiEvent>& e) {
  if (!e) {
    FUZZ_CHECK(e.error().code == ErrorCode::kBadRequest || e.error().code == ErrorCode::kPayloadTooLarge);
    return;
  }
  FUZZ_CHECK(!e->request.method.empty());
  FUZZ_CHECK(!e->request.path.empty() && e->request.path.front() == '/');
  FUZZ_CHECK(e->request.body.size() <= 4096);
  Response r = Response::text(200, e->request.body, e->request.header("content-type"));
  for (const auto& [k, v] : e->request.headers) r.with_header(k, v);
  for (PayloadFormat f : {PayloadFormat::kV1, PayloadFormat::kV2}) {
    auto answer = parse_json(format_response(r, f));
    FUZZ_CHECK(answer && answer->is_object());
    const json::object& o = answer->get_object();
    FUZZ_CHECK(o.contains("statusCode") && o.at("body").is_string() && o.at("isBase64Encoded").is_bool());
  }
}

}  // namespace
}  // namespace scigate::lambda

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate::lambda;
  std::string event = scigate::fuzz::as_string(data, size);
  EventLimits limits{4096};
  check_request(parse_event(event, nullptr, limits));
  for (const auto& op : operations()) check_request(parse_event(event, &op, limits));
  (void)guess_format(event);
  auto verify = [](std::string_view authorization) -> scigate::Result<std::string> {
    if (authorization == "Bearer good") return std::string("thomas");
    return scigate::Error::unauthenticated("bad token");
  };
  auto policy = authorize(event, verify);
  if (policy) FUZZ_CHECK(policy->find("\"thomas\"") != std::string::npos);
  return 0;
}
