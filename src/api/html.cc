#include "api/html.h"

#include "core/json_util.h"

namespace json = boost::json;

namespace scigate::api {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool wants_html(std::string_view accept) {
  size_t html = accept.find("text/html");
  if (html == std::string_view::npos) return false;
  size_t js = accept.find("application/json");
  return js == std::string_view::npos || html < js;
}

namespace {
std::string str(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return "";
  if (it->value().is_string()) return std::string(it->value().get_string());
  if (it->value().is_null()) return "";
  return to_json_text(it->value());
}
}  // namespace

std::string render_listing_html(const json::object& listing) {
  std::string prefix = str(listing, "prefix");
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Outputs: " + html_escape(prefix) +
      "</title><style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}</style>"
      "</head><body><h1>" +
      html_escape(prefix) +
      "</h1><table><tr><th>Name</th><th>Size</th><th>Modified</th>"
      "<th>Properties</th></tr>";
  for (const auto& f : listing.at("folders").as_array()) {
    const auto& o = f.as_object();
    out += "<tr><td><a href=\"" + html_escape(str(o, "url")) + "\">" + html_escape(str(o, "name")) +
           "/</a></td><td></td><td></td><td></td></tr>";
  }
  for (const auto& f : listing.at("files").as_array()) {
    const auto& o = f.as_object();
    std::string props;
    for (const auto& kv : o.at("properties").as_object()) {
      props += html_escape(kv.key()) + " = " +
               html_escape(kv.value().is_string() ? std::string(kv.value().get_string()) : to_json_text(kv.value())) +
               "<br>";
    }
    out += "<tr><td><a href=\"" + html_escape(str(o, "href")) + "\">" + html_escape(str(o, "name")) + "</a></td><td>" +
           html_escape(str(o, "size")) + "</td><td>" + html_escape(str(o, "last_modified")) + "</td><td>" + props +
           "</td></tr>";
  }
  out += "</table>";
  std::string next = str(listing, "next_url");
  if (!next.empty()) out += "<p><a href=\"" + html_escape(next) + "\">Next page</a></p>";
  out += "</body></html>";
  return out;
}

}  // namespace scigate::api
