#include "engine/airflow_mapping.h"

#include "core/json_util.h"
#include "core/time_util.h"

namespace json = boost::json;

namespace scigate {

namespace {

const char* const kSchemaTypes[] = {"string", "integer", "number", "boolean", "array", "object"};

bool supported_type(std::string_view t) {
  for (const char* k : kSchemaTypes) {
    if (t == k) return true;
  }
  return false;
}

// Airflow serializes "no default" as an ArgNotSet marker (v1) or null.
bool has_value(const json::value* v) {
  if (!v || v->is_null()) return false;
  if (v->is_object()) {
    const auto* cls = v->get_object().if_contains("__class");
    if (cls && cls->is_string() && cls->get_string().find("ArgNotSet") != json::string::npos) return false;
  }
  return true;
}

json::object property_of(const json::value& entry) {
  const json::object* param = entry.is_object() ? &entry.get_object() : nullptr;
  bool serialized = param && (param->contains("__class") || param->contains("schema") || param->contains("value"));
  if (!serialized) return json::object{{"default", entry}};  // a bare default
  json::object out;
  const json::value* schema_v = param->if_contains("schema");
  json::object schema = schema_v && schema_v->is_object() ? schema_v->get_object() : json::object{};
  bool nullable = false;
  if (const auto* t = schema.if_contains("type")) {
    if (t->is_string() && supported_type(t->get_string())) {
      out["type"] = *t;
    } else if (t->is_array()) {
      for (const auto& item : t->get_array()) {
        if (!item.is_string()) continue;
        if (item.get_string() == "null")
          nullable = true;
        else if (!out.contains("type") && supported_type(item.get_string()))
          out["type"] = item;
      }
    }
  }
  for (const char* key : {"enum", "minimum", "maximum"}) {
    if (const auto* v = schema.if_contains(key)) out[key] = *v;
  }
  // A DAG's own string bounds (Param(maxLength=...)) replace the default size bound.
  if (const auto* t = out.if_contains("type"); t && t->is_string() && t->get_string() == "string") {
    for (const char* key : {"minLength", "maxLength"}) {
      if (const auto* v = schema.if_contains(key)) out[key] = *v;
    }
  }
  const json::value* description = param->if_contains("description");
  if (!description || !description->is_string()) description = schema.if_contains("description");
  if (description && description->is_string()) out["description"] = *description;
  const json::value* value = param->if_contains("value");
  if (has_value(value)) {
    out["default"] = *value;
  } else if (!nullable) {
    out["required"] = true;
  }
  return out;
}

}  // namespace

int64_t timestamp_us(const json::object& o, std::string_view key) {
  auto t = parse_iso8601(string_or(o, key));
  return t ? to_unix_micros(*t) : 0;
}

Result<ParamSchema> dag_params_schema(const json::value& params) {
  if (params.is_null()) return ParamSchema();
  if (!params.is_object()) return Error::bad_request("DAG params must be an object");
  json::object properties;
  for (const auto& kv : params.get_object()) properties[kv.key()] = property_of(kv.value());
  return ParamSchema::from_properties(properties);
}

std::optional<RunState> dag_run_state(std::string_view s) {
  if (s == "queued") return RunState::kQueued;
  if (s == "running") return RunState::kRunning;
  if (s == "success") return RunState::kSuccess;
  if (s == "failed") return RunState::kFailed;
  return std::nullopt;
}

Result<RunStatus> dag_run_status(const json::value& dag_run) {
  if (!dag_run.is_object()) return Error::bad_request("DAG run is not an object");
  const auto& o = dag_run.get_object();
  auto state = dag_run_state(string_or(o, "state"));
  if (!state) return Error::bad_request("unknown DAG run state '" + string_or(o, "state") + "'");
  RunStatus st;
  st.state = *state;
  st.started_us = timestamp_us(o, "start_date");
  st.ended_us = is_terminal(st.state) ? timestamp_us(o, "end_date") : 0;
  return st;
}

std::vector<TaskInstanceInfo> task_instances(const std::vector<json::value>& items) {
  std::vector<TaskInstanceInfo> out;
  for (const auto& ti : items) {
    if (!ti.is_object()) continue;
    const auto& o = ti.get_object();
    TaskInstanceInfo info;
    info.task_id = string_or(o, "task_id");
    info.state = string_or(o, "state");
    info.end_date = string_or(o, "end_date");
    if (const auto* t = o.if_contains("try_number"); t && t->is_int64())
      info.try_number = static_cast<int>(t->as_int64());
    if (const auto* m = o.if_contains("map_index"); m && m->is_int64())
      info.map_index = static_cast<int>(m->as_int64());
    if (!info.task_id.empty()) out.push_back(std::move(info));
  }
  return out;
}

bool task_finished(const TaskInstanceInfo& t) {
  for (const char* s : {"success", "failed", "skipped", "upstream_failed", "removed"}) {
    if (t.state == s) return true;
  }
  return false;
}

std::string log_text(const json::value& reply) {
  const auto* content = reply.is_object() ? reply.get_object().if_contains("content") : nullptr;
  if (!content) return "";
  if (content->is_string()) return std::string(content->get_string());
  std::string out;
  if (!content->is_array()) return out;
  for (const auto& line : content->get_array()) {
    if (line.is_string()) {
      out += line.get_string();
    } else if (line.is_object()) {
      std::string ts = string_or(line.get_object(), "timestamp");
      std::string event = string_or(line.get_object(), "event");
      out += ts.empty() ? event : ts + " " + event;
    }
    out += '\n';
  }
  return out;
}

std::optional<std::string> dag_schedule(const json::object& dag) {
  for (const char* key : {"timetable_summary", "timetable_description"}) {
    std::string s = string_or(dag, key);
    if (!s.empty() && s != "None" && s != "Never, external triggers only") return s;
  }
  if (const auto* si = dag.if_contains("schedule_interval"); si && si->is_object()) {
    std::string value = string_or(si->get_object(), "value");
    if (!value.empty()) return value;
  }
  return std::nullopt;
}

}  // namespace scigate
