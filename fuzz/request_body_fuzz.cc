// The JSON bodies callers send. Each input is tried as
//  - POST /workflows/{id}/runs: parsed as start_run parses it, then its parameters
//    checked against two workflows' schemas (a realistic one and one using every
//    feature: enum, minimum/maximum, required, each type);
//  - PUT /output-data/...: the metadata update, then each file's properties written as
//    a .cfg sidecar and read back.
#include "api/bodies.h"
#include "api/sidecar.h"
#include "core/param_schema.h"
#include "engine/workflow_engine.h"
#include "fuzz_check.h"

namespace json = boost::json;

namespace scigate {
namespace {

ParamSchema schema_of(const char* properties) {
  auto s = ParamSchema::from_properties(json::parse(properties).as_object());
  FUZZ_CHECK(s.ok());
  return std::move(s).value();
}

const ParamSchema& nebraska() {
  static const ParamSchema s = schema_of(R"({"tile_size": {"type": "integer", "default": 64, "minimum": 16}})");
  return s;
}

const ParamSchema& everything() {
  static const ParamSchema s = schema_of(R"({
    "tile_size": {"type": "integer", "default": 64, "minimum": 16, "maximum": 4096},
    "threshold": {"type": "number", "minimum": -1.5, "maximum": 1e300},
    "mode": {"type": "string", "enum": ["fast", "exact"], "description": "how"},
    "level": {"enum": [1, 2.5, "three", null, true, [4], {"five": 5}]},
    "labels": {"type": "array", "default": []},
    "options": {"type": "object"},
    "verbose": {"type": "boolean", "default": false},
    "seed": {"type": "integer", "required": true},
    "anything": {}
  })");
  return s;
}

void check_params(const ParamSchema& schema, const json::object& given) {
  auto out = schema.validate(given);
  if (!out) {
    FUZZ_CHECK(out.error().code == ErrorCode::kBadRequest);
    return;
  }
  for (const auto& kv : *out) {
    bool known = false;
    for (const auto& spec : schema.specs()) known = known || spec.name == kv.key();
    FUZZ_CHECK(known);
  }
  for (const auto& spec : schema.specs()) FUZZ_CHECK(!spec.required || out->contains(spec.name));
  // What validation let through passes again, unchanged: defaults are applied once.
  auto again = schema.validate(*out);
  FUZZ_CHECK(again.ok() && *again == *out);
}

void run_request(const std::string& body) {
  auto req = api::parse_run_request(body, "nebraska");
  if (!req) {
    FUZZ_CHECK(req.error().code == ErrorCode::kBadRequest);
    return;
  }
  FUZZ_CHECK(!req->data_selection.empty());
  for (const char* key : kServerConfKeys) FUZZ_CHECK(!req->params.contains(key));
  check_params(nebraska(), req->params);
  check_params(everything(), req->params);
}

void metadata_update(const std::string& body) {
  auto files = api::parse_metadata_update(body);
  if (!files) {
    FUZZ_CHECK(files.error().code == ErrorCode::kBadRequest);
    return;
  }
  for (const auto& [name, props] : *files) {
    FUZZ_CHECK(!name.empty() && name.front() != '/' && name.back() != '/');
    for (const auto& [k, v] : props) FUZZ_CHECK(api::check_property(k, v).ok());
    // What a caller stored is what the next listing shows.
    std::string section = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    FUZZ_CHECK(api::read_sidecar(api::write_sidecar(section, props)) == props);
  }
}

}  // namespace
}  // namespace scigate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body = scigate::fuzz::as_string(data, size);
  scigate::run_request(body);
  scigate::metadata_update(body);
  return 0;
}
