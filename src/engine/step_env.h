// The environment of a workflow step. Never the server's whole environment: it holds
// scigate's secrets (`secret: "env:JWT_SECRET"`, S3, Airflow and Earthdata credentials),
// and a step runs whatever code its workflow runs. A step sees only
//   - an allow-list of harmless variables copied from the server: PATH, HOME, LANG,
//     LANGUAGE, LC_*, TZ, TMPDIR, LD_LIBRARY_PATH (the step supervisor is scigate itself
//     and may need it to start);
//   - what its workflow names in the config (workflows.<id>.env: NAME or NAME=value);
//   - the SCIGATE_* variables the local engine sets per step.
#pragma once

#include <string>
#include <vector>

#include "catalog/config.h"

namespace scigate {

// NAME=value strings for a workflow's steps, before the per-step SCIGATE_* variables.
// `server_env` is the server's environment as NAME=value strings. A workflow's entries
// replace allow-listed ones of the same name; a NAME absent from the server is left out.
// PATH is always set (a default when the server has none), since steps are looked up on it.
std::vector<std::string> step_base_environment(const std::vector<std::string>& server_env,
                                               const std::vector<StepEnvVar>& workflow_env);

// The value of NAME in a NAME=value list, or "" when absent.
std::string env_value(const std::vector<std::string>& env, const std::string& name);

// This process's environment as NAME=value strings (read once at start-up, before any
// thread could change it).
std::vector<std::string> current_environment();

}  // namespace scigate
