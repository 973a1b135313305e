// The step between Beast and the handlers: how the server reads one request (the
// parser's limits), which requests it refuses on their header alone, and how Beast's
// message becomes the Request handlers see. Kept out of server.cc so that the fuzz
// target parses and judges requests exactly as the server does.
#pragma once

#include <boost/beast/http.hpp>
#include <cstddef>
#include <optional>

#include "http/request.h"

namespace scigate {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// A parser for one request with the server's header and body limits (ServerOptions).
void limit_parser(BeastRequestParser& parser, size_t max_header_bytes, size_t max_body_bytes);

// Method, still-encoded path, decoded query, lower-case header names (the last of a
// repeated header wins), body (empty while only the header has been read).
Request to_request(const BeastRequest& msg);

// Requests refused on their header alone, before any per-request state: a method scigate
// does not know (501); a Transfer-Encoding other than exactly "chunked", or one beside a
// Content-Length (RFC 9112 §6.3: accepting it as "no body" would read the body as a
// second, smuggled request); repeated Authorization headers (400). The connection is
// closed after the answer, because where such a request's body ends cannot be trusted.
std::optional<Error> refuse_header(const BeastRequest& msg);

// An HTTP/1.1 `Expect: 100-continue`.
bool expects_continue(const BeastRequest& msg);

}  // namespace scigate
