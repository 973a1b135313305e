// Airflow's JSON answers (REST API v1 and v2) as the Airflow engine reads them: DAG
// details (params → parameter schema, schedule), DAG runs (state, times), task instance
// collections (progress), task logs, and the JWT of an Airflow 3 token answer (its exp).
// Each input is one answer, handed to every reader that could receive it.
#include "core/json_util.h"
#include "engine/airflow_auth.h"
#include "engine/airflow_mapping.h"
#include "fuzz_check.h"

namespace json = boost::json;

namespace scigate {
namespace {

void params_schema(const json::value& params) {
  auto schema = dag_params_schema(params);
  if (!schema) {
    FUZZ_CHECK(schema.error().code == ErrorCode::kBadRequest);
    return;
  }
  json::object described = schema->to_json_schema();
  (void)json::serialize(described);
  // Defaults the DAG declares pass its own schema (a run with no parameters).
  auto defaults = schema->validate({});
  if (defaults) FUZZ_CHECK(schema->validate(*defaults).ok());
}

void dag(const json::object& o) {
  (void)dag_schedule(o);
  if (const auto* p = o.if_contains("params")) params_schema(*p);
  for (const char* key : {"start_date", "end_date", "logical_date", "last_parsed_time"}) (void)timestamp_us(o, key);
}

void dag_run(const json::value& v) {
  auto st = dag_run_status(v);
  if (st) FUZZ_CHECK(is_terminal(st->state) || st->ended_us == 0);
}

void list(const json::object& o, const char* key, void (*each)(const json::value&)) {
  const auto* items = o.if_contains(key);
  if (items && items->is_array()) {
    for (const auto& item : items->get_array()) each(item);
  }
}

}  // namespace
}  // namespace scigate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string input = fuzz::as_string(data, size);
  (void)jwt_expiry(input);
  auto parsed = parse_json(input);
  if (!parsed) return 0;
  const json::value& v = *parsed;
  params_schema(v);
  dag_run(v);
  (void)log_text(v);
  std::vector<json::value> items;
  if (v.is_array()) items.assign(v.get_array().begin(), v.get_array().end());
  if (const json::object* o = v.if_object()) {
    dag(*o);
    list(*o, "dags", [](const json::value& d) {
      if (d.is_object()) dag(d.get_object());
    });
    list(*o, "dag_runs", dag_run);
    if (const auto* tis = o->if_contains("task_instances"); tis && tis->is_array())
      items.assign(tis->get_array().begin(), tis->get_array().end());
    (void)jwt_expiry(string_or(*o, "access_token"));
  }
  for (const auto& task : task_instances(items)) {
    FUZZ_CHECK(!task.task_id.empty());
    (void)task_finished(task);
  }
  return 0;
}
