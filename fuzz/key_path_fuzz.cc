// Caller-supplied paths: the encoded URL tails of /output-data, /data-selections/{id}/files
// and /files, normalised by parse_relative_key, and the percent coding around them.
// Invariants: a clean key can only be joined under a root (no "." or "..", no leading
// '/', no empty segments, no backslash or control bytes); encoding a clean key and
// parsing it again gives the same key; decode(encode(x)) == x for any bytes.
#include "core/key_path.h"
#include "fuzz_check.h"
#include "http/request.h"

namespace scigate {
namespace {

void check_clean(const RelativeKey& key) {
  const std::string& p = key.path;
  if (p.empty()) {
    FUZZ_CHECK(key.is_folder);
    return;
  }
  FUZZ_CHECK(p.front() != '/' && p.back() != '/');
  FUZZ_CHECK(p.find("//") == std::string::npos);
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string seg = p.substr(start, end - start);
    FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
    start = end + 1;
  }
  for (unsigned char c : p) FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '\\');
}

void check_encoding(const std::string& raw, bool keep_slash) {
  std::string enc = percent_encode(raw, keep_slash);
  for (char c : enc) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '~' || c == '%' || (keep_slash && c == '/');
    FUZZ_CHECK(ok);
  }
  std::string dec;
  FUZZ_CHECK(percent_decode(enc, dec));
  FUZZ_CHECK(dec == raw);
  FUZZ_CHECK(percent_decode(enc, dec, /*plus_is_space=*/true) && dec == raw);
}

}  // namespace
}  // namespace scigate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string input = fuzz::as_string(data, size);
  auto key = parse_relative_key(input);
  if (key) {
    check_clean(*key);
    std::string again = percent_encode(key->path) + (key->is_folder && !key->path.empty() ? "/" : "");
    auto reparsed = parse_relative_key(again);
    FUZZ_CHECK(reparsed.ok() && reparsed->path == key->path && reparsed->is_folder == key->is_folder);
  } else {
    FUZZ_CHECK(key.error().code == ErrorCode::kBadRequest);
  }
  check_encoding(input, true);
  check_encoding(input, false);
  std::string decoded;
  if (percent_decode(input, decoded)) {
    std::string re;
    FUZZ_CHECK(percent_decode(percent_encode(decoded, false), re) && re == decoded);
  }
  size_t nl = input.find('\n');
  std::string a = input.substr(0, nl), b = nl == std::string::npos ? "" : input.substr(nl + 1);
  std::string joined = join_key(a, b);
  if (a.find("//") == std::string::npos && b.find("//") == std::string::npos)
    FUZZ_CHECK(joined.find("//") == std::string::npos);
  for (const auto& [k, v] : parse_query(input)) FUZZ_CHECK(!k.empty());
  return 0;
}
