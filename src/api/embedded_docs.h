// The API's own OpenAPI 3 document and the /docs page, embedded at build time.
#pragma once

#include <string_view>

namespace scigate {

std::string_view openapi_document();
std::string_view docs_page();

}  // namespace scigate
