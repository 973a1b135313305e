// The runs table's columns in one order for every SQL backend: the list a SELECT or
// RETURNING names, the values an INSERT binds, and how a row read back becomes a
// RunRecord. A new field is added here once (and in a migration, migrations.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/run_record.h"

namespace scigate {

inline constexpr const char* kRunColumns =
    "run_id, workflow_id, username, data_selection, params_json, output_bucket, output_prefix, engine_run_id, "
    "state, created_us, started_us, ended_us, idempotency_key, reason, tasks_done, tasks_total, engine_data, owner, "
    "lease_until_us, cancel_requested";

// The values of `r` in kRunColumns order, as a backend's parameter type: a variant that
// holds std::string, int64_t and std::nullptr_t (NULL: a run without idempotency key).
template <class Arg>
std::vector<Arg> run_column_values(const RunRecord& r) {
  Arg idempotency = r.idempotency_key.empty() ? Arg(nullptr) : Arg(r.idempotency_key);
  return {r.run_id,
          r.workflow_id,
          r.username,
          r.data_selection,
          r.params_json,
          r.output_bucket,
          r.output_prefix,
          r.engine_run_id,
          std::string(to_string(r.state)),
          r.created_us,
          r.started_us,
          r.ended_us,
          idempotency,
          r.reason,
          int64_t{r.tasks_done},
          int64_t{r.tasks_total},
          r.engine_data,
          r.owner,
          r.lease_until_us,
          int64_t{r.cancel_requested ? 1 : 0}};
}

// A RunRecord from a row in kRunColumns order: `text(i)` and `integer(i)` read column i
// (text "" for NULL).
template <class Text, class Integer>
RunRecord run_from_columns(const Text& text, const Integer& integer) {
  RunRecord r;
  r.run_id = text(0);
  r.workflow_id = text(1);
  r.username = text(2);
  r.data_selection = text(3);
  r.params_json = text(4);
  r.output_bucket = text(5);
  r.output_prefix = text(6);
  r.engine_run_id = text(7);
  r.state = parse_run_state(text(8)).value_or(RunState::kFailed);
  r.created_us = integer(9);
  r.started_us = integer(10);
  r.ended_us = integer(11);
  r.idempotency_key = text(12);
  r.reason = text(13);
  r.tasks_done = static_cast<int>(integer(14));
  r.tasks_total = static_cast<int>(integer(15));
  r.engine_data = text(16);
  r.owner = text(17);
  r.lease_until_us = integer(18);
  r.cancel_requested = integer(19) != 0;
  return r;
}

}  // namespace scigate
