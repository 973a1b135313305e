// The step between Beast and the handlers: how the server reads one request (the
// parser's limits) and turns Beast's message into the Request handlers see. Kept out of
// server.cc so that the fuzz target parses requests exactly as the server does.
#pragma once

#include <boost/beast/http.hpp>
#include <cstddef>

#include "http/request.h"

namespace scigate {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastRequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// A parser for one request with the server's header and body limits (ServerOptions).
void limit_parser(BeastRequestParser& parser, size_t max_header_bytes, size_t max_body_bytes);

// Method, still-encoded path, decoded query, lower-case header names (the last of a
// repeated header wins), body.
Request to_request(const BeastRequest& msg);

}  // namespace scigate
