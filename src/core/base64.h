// Base64 for HTTP Basic credentials and base64url (no padding) for JWT segments.
#pragma once

#include <string>
#include <string_view>

namespace scigate {

std::string base64_encode(std::string_view in);  // standard alphabet, padded
// Unpadded base64url as JWTs use it; false on a character outside the alphabet.
bool base64url_decode(std::string_view in, std::string& out);
// Standard base64, padded or not (API Gateway's isBase64Encoded bodies); false on a
// character outside the alphabet, misplaced padding or an impossible length.
bool base64_decode(std::string_view in, std::string& out);

}  // namespace scigate
