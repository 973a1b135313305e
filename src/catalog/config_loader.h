// Loading and validating the YAML config. Every problem is reported with the file, the
// line, the key path and the reason, and loading goes on to find all of them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catalog/config.h"

namespace scigate {

struct ConfigProblem {
  std::string key_path;  // e.g. "collections.nebraska_images.provider"
  int line = 0;          // 1-based; 0 when unknown
  std::string reason;
};

struct ConfigLoad {
  std::optional<Config> config;  // set only when problems is empty
  std::vector<ConfigProblem> problems;

  // "file:line: key.path: reason" lines, one per problem.
  std::string describe(const std::filesystem::path& file) const;
};

// `secrets`: resolves references beyond env: and file: (awsconfig's aws-secretsmanager:);
// null: env: and file: only, and any other reference is a problem of the config.
ConfigLoad load_config_file(const std::filesystem::path& file, const SecretResolver* secrets = nullptr);
// For tests and embedded use: `base_dir` is what relative paths resolve against.
ConfigLoad load_config_text(const std::string& yaml, const std::filesystem::path& file,
                            const std::filesystem::path& base_dir, const SecretResolver* secrets = nullptr);

}  // namespace scigate
