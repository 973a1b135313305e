// HTML rendering of listings, for browsers that ask for text/html. Every value that came
// from a caller or a store is escaped.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace scigate::api {

std::string html_escape(std::string_view text);
// Renders the JSON listing of browse_outputs as a page.
std::string render_listing_html(const boost::json::object& listing);
// True when the Accept header prefers text/html over JSON.
bool wants_html(std::string_view accept);

}  // namespace scigate::api
