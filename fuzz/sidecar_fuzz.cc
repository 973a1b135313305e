// `.cfg` sidecars as browsing reads them (any text a workflow step or the seed's Python
// wrote), and INI in general (also the AWS shared credentials file). Invariants: keys and
// values come out trimmed, keys without '=' or ':'; and every property the API would
// accept survives being written as a sidecar and read back.
#include "api/sidecar.h"
#include "core/ini.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string text = fuzz::as_string(data, size);
  for (const auto& [section, values] : parse_ini(text)) {
    FUZZ_CHECK(trim_blanks(section) == section);
    for (const auto& [k, v] : values) {
      FUZZ_CHECK(!k.empty() && trim_blanks(k) == k && k.find_first_of("=:\n") == std::string::npos);
      FUZZ_CHECK(trim_blanks(v) == v && v.find('\n') == std::string::npos);
    }
  }
  std::map<std::string, std::string> writable;
  for (const auto& [k, v] : api::read_sidecar(text)) {
    if (api::check_property(k, v).ok()) writable[k] = v;
  }
  FUZZ_CHECK(api::read_sidecar(api::write_sidecar("file.png", writable)) == writable);
  return 0;
}
