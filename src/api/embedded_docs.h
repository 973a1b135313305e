// The API's own OpenAPI 3 document, embedded at build time.
#pragma once

#include <string_view>

namespace scigate {

std::string_view openapi_document();

}  // namespace scigate
