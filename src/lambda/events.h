// API Gateway and Lambda function URL events in, Lambda proxy answers out: the pure part
// of `scigate lambda` (no I/O; unit-tested and fuzzed alone).
//
// Events understood: REST API proxy events (payload 1.0: httpMethod, path, headers and
// multiValueHeaders, queryStringParameters and multiValueQueryStringParameters,
// pathParameters, requestContext.authorizer, body, isBase64Encoded), HTTP API events
// (payload 2.0: rawPath, rawQueryString, cookies, requestContext.http.method) and function
// URL events (payload 2.0 too). With a fixed operation (the seed's one function per
// operation) the event needs no path: the operation's route is filled from
// pathParameters, as the seed's own test events are written.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "http/request.h"

namespace scigate::lambda {

// One of the seed's functions (or scigate's own routes) as a fixed operation.
struct Operation {
  std::string_view name;     // "listworkflows"
  std::string_view method;   // "GET"
  std::string_view pattern;  // "/workflows/{id}": the router's pattern, {name} from pathParameters
};
// nullptr when `name` is not an operation. "authorizer" is not one (see authorizer.h).
const Operation* find_operation(std::string_view name);
// Every operation, for usage texts and tests.
const std::vector<Operation>& operations();

enum class PayloadFormat { kV1, kV2 };  // how the answer must be shaped (REST v1; HTTP API / function URL)

struct ApiEvent {
  PayloadFormat format = PayloadFormat::kV1;
  Request request;
  // requestContext.authorizer.username (v1) or .lambda.username (v2), when present: what
  // a trusted authorizer said the caller is.
  std::optional<std::string> authorizer_username;
};

struct EventLimits {
  size_t max_body_bytes = 1 << 20;  // the server's limit, so both transports refuse alike
};

// Fails with kBadRequest (malformed JSON, not an object, unknown shape, a path parameter
// the operation needs and the event lacks, invalid base64, repeated Authorization) or
// kPayloadTooLarge. The format of a failure's answer is still known from the event when
// it could be read: see `guess_format`.
Result<ApiEvent> parse_event(std::string_view json, const Operation* fixed, const EventLimits& limits);
// v2 when the event says version "2.0", else v1 (also for what could not be parsed).
PayloadFormat guess_format(std::string_view json);

// Lambda's buffered answers may be 6 MB of JSON (RequestResponse invocation payload).
inline constexpr size_t kMaxResponsePayload = 6 * 1024 * 1024;

// The Lambda proxy answer for `response`, whose body is already in memory. Binary bodies
// (content types that are not text, JSON, XML, JavaScript or SVG, and any body that is
// not UTF-8) are base64-encoded with isBase64Encoded. v1 answers carry headers and
// multiValueHeaders; v2 answers headers (repeated ones joined with ", ") and cookies.
// `head`: the headers of the answer without its body.
std::string format_response(const Response& response, PayloadFormat format, bool head = false);

// True when a body of this content type goes as text.
bool is_text_content_type(std::string_view content_type);

}  // namespace scigate::lambda
