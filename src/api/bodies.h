// The JSON request bodies the API accepts, parsed and checked completely before a handler
// acts on them. Pure functions (no I/O), so that they can be tested and fuzzed alone.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>

#include "core/error.h"

namespace scigate::api {

// POST /workflows/{id}/runs.
struct RunRequest {
  std::string data_selection;
  boost::json::object params;  // not yet checked against the workflow's schema
};

// Accepts both body shapes: {"in_data_selection": X, ...params} (the seed Lambda's) and
// {"in_data_selection": X, "params": {...}}. `workflow_id` may repeat the path's id. 400
// for anything else, and for parameters the server sets itself (kServerConfKeys).
Result<RunRequest> parse_run_request(const std::string& body, const std::string& workflow_id);

// PUT /output-data/{prefix...}: {"files": {name: {"properties": {k: v}}}} → properties by
// clean relative file name. Values are strings, numbers or booleans (written as JSON);
// strings lose surrounding blanks, as a sidecar reader (configparser too) would drop them,
// so that what is stored is what the next listing shows. Every name and property is
// checked (check_property) before anything is written.
using MetadataUpdate = std::map<std::string, std::map<std::string, std::string>>;
Result<MetadataUpdate> parse_metadata_update(const std::string& body);

}  // namespace scigate::api
