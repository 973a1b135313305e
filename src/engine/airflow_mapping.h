// How Airflow's REST API objects (v1 and v2) become scigate's: DAG params → JSON Schema,
// DAG run states → run states, task instances → progress, task logs → text. Pure
// functions, no I/O.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/param_schema.h"
#include "engine/workflow_engine.h"

namespace scigate {

// A DAG's `params` (from /dags/{id}/details) as a ParamSchema. Each entry is either a
// serialized Param ({"value", "description", "schema": {type, enum, minimum, ...}}; v1
// adds "__class") or a bare default value. A param without a value is required; a
// `type` list such as ["null", "integer"] means optional integer.
Result<ParamSchema> dag_params_schema(const boost::json::value& params);

// queued, running, success, failed (Airflow 2 and 3 DAG run states).
std::optional<RunState> dag_run_state(std::string_view airflow_state);

// The Unix microseconds of an ISO 8601 field of an API object; 0 when absent or unreadable.
int64_t timestamp_us(const boost::json::object& object, std::string_view key);

// State and times of a DAGRun object.
Result<RunStatus> dag_run_status(const boost::json::value& dag_run);

struct TaskInstanceInfo {
  std::string task_id;
  std::string state;  // "" while not yet scheduled
  int try_number = 0;
  int map_index = -1;
  std::string end_date;  // ISO 8601 as Airflow gives it (UTC), "" while not finished
};
// The task instance objects of a TaskInstanceCollection's `task_instances`.
std::vector<TaskInstanceInfo> task_instances(const std::vector<boost::json::value>& items);
// A task in a state it will not leave by itself (success, failed, skipped, ...).
bool task_finished(const TaskInstanceInfo& task);

// The `content` of a task log answer as text: v1 sends a string, v2 a list of structured
// messages ({timestamp, event, ...}) or strings.
std::string log_text(const boost::json::value& log_reply);

// A DAG's schedule as the API shows it: v1 schedule_interval/timetable_description,
// v2 timetable_summary; nullopt when it has none.
std::optional<std::string> dag_schedule(const boost::json::object& dag);

}  // namespace scigate
