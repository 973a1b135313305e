#include "api/bodies.h"

#include "api/sidecar.h"
#include "core/ini.h"
#include "core/json_util.h"
#include "core/key_path.h"
#include "engine/workflow_engine.h"

namespace json = boost::json;

namespace scigate::api {

namespace {
constexpr size_t kMaxFilesPerUpdate = 1000;
}  // namespace

Result<RunRequest> parse_run_request(const std::string& body, const std::string& workflow_id) {
  if (body.empty()) return Error::bad_request("request body is required");
  auto parsed = parse_json(body);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return Error::bad_request("request body must be a JSON object");
  json::object obj = std::move(parsed->get_object());
  RunRequest out;
  auto sel = obj.find("in_data_selection");
  if (sel == obj.end() || !sel->value().is_string() || sel->value().get_string().empty()) {
    return Error::bad_request("field 'in_data_selection' (string) is required");
  }
  out.data_selection = std::string(sel->value().get_string());
  obj.erase("in_data_selection");
  if (auto wf = obj.find("workflow_id"); wf != obj.end()) {
    if (!wf->value().is_string() || wf->value().get_string() != workflow_id) {
      return Error::bad_request("field 'workflow_id' does not match the workflow in the path");
    }
    obj.erase("workflow_id");
  }
  if (auto p = obj.find("params"); p != obj.end()) {
    if (!p->value().is_object()) return Error::bad_request("field 'params' must be an object");
    out.params = std::move(p->value().get_object());
    obj.erase("params");
    if (!obj.empty())
      return Error::bad_request("unexpected field '" + std::string(obj.begin()->key()) + "' beside 'params'");
  } else {
    out.params = std::move(obj);
  }
  for (const char* key : kServerConfKeys) {  // the seed's Lambda let them through
    if (out.params.contains(key))
      return Error::bad_request("parameter '" + std::string(key) + "' is set by the server");
  }
  return out;
}

Result<MetadataUpdate> parse_metadata_update(const std::string& body) {
  auto parsed = parse_json(body);
  if (!parsed) return parsed.error();
  const json::object* obj = parsed->if_object();
  const json::value* files = obj ? obj->if_contains("files") : nullptr;
  if (!files || !files->is_object())
    return Error::bad_request("body must be {\"files\": {name: {\"properties\": {...}}}}");
  if (files->get_object().size() > kMaxFilesPerUpdate) return Error::bad_request("at most 1000 files per request");
  MetadataUpdate out;
  for (const auto& [name_sv, spec] : files->get_object()) {
    std::string name(name_sv);
    auto key = parse_relative_key(percent_encode(name));
    if (!key || key->path.empty() || key->is_folder || std::string_view(name).ends_with(kSidecarSuffix)) {
      return Error::bad_request("invalid file name '" + name + "'");
    }
    const json::value* props = spec.is_object() ? spec.get_object().if_contains("properties") : nullptr;
    if (!props || !props->is_object()) return Error::bad_request("file '" + name + "' needs a 'properties' object");
    auto& dest = out[key->path];
    for (const auto& [k, v] : props->get_object()) {
      std::string value;
      if (v.is_string())
        value = std::string(trim_blanks(v.get_string()));  // as the sidecar will read it back
      else if (v.is_number() || v.is_bool())
        value = json::serialize(v);
      else
        return Error::bad_request("property '" + std::string(k) + "' of '" + name +
                                  "' must be a string, number or boolean");
      if (auto st = check_property(std::string(k), value); !st) return st.error();
      dest[std::string(k)] = std::move(value);
    }
  }
  return out;
}

}  // namespace scigate::api
