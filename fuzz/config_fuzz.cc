// The YAML config loader (load_config_text), as `scigate serve` and `check-config` run it
// on an operator's file. Secrets resolve from a variable (env:FUZZ_SECRET) and from a
// file in the config's folder (file:secret.txt); the folder is a fresh temporary one.
#include <cstdlib>

#include "catalog/config_loader.h"
#include "fuzz_check.h"
#include "unit/temp_dir.h"

namespace {

const std::filesystem::path& base_dir() {
  static scigate::testing::TempDir dir;
  static bool ready = [] {
    std::FILE* f = std::fopen((dir.path() / "secret.txt").c_str(), "w");
    std::fputs("file-secret\n", f);
    std::fclose(f);
    ::setenv("FUZZ_SECRET", "env-secret", 1);
    return true;
  }();
  (void)ready;
  return dir.path();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  const auto& base = base_dir();
  std::string yaml = fuzz::as_string(data, size);
  auto load = load_config_text(yaml, base / "fuzz.yaml", base);
  FUZZ_CHECK(load.config.has_value() == load.problems.empty());
  for (const auto& p : load.problems) FUZZ_CHECK(!p.reason.empty());
  std::string text = load.describe(base / "fuzz.yaml");
  // Problems name secrets by reference, never by value (unless the text itself has it).
  for (const char* secret : {"env-secret", "file-secret"}) {
    FUZZ_CHECK(text.find(secret) == std::string::npos || yaml.find(secret) != std::string::npos);
  }
  return 0;
}
