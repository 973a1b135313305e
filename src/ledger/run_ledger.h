// RunLedger: the durable record of who started which run, when, on what, with which
// params and output prefix, and its last known state. Backends: SQLite (embedded),
// PostgreSQL later. Thread-safe. Listing a user's runs is an index range scan, so a page
// costs the same with 100 or 1,000,000 rows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "ledger/run_record.h"

namespace scigate {

struct RunPageRequest {
  std::string username;
  std::string workflow_id;  // empty = all workflows
  int limit = 50;
  std::string cursor;  // from a previous page's next_cursor
};

struct RunPage {
  std::vector<RunRecord> runs;  // newest first
  std::string next_cursor;      // empty on the last page
};

struct InsertOutcome {
  RunRecord record;
  bool created = false;  // false: a run with the same (username, idempotency_key) existed
};

class RunLedger {
 public:
  virtual ~RunLedger() = default;

  // Inserts `record`. When it has an idempotency key already used by the same user,
  // returns the existing run with created=false instead.
  virtual Result<InsertOutcome> insert(const RunRecord& record) = 0;
  // kNotFound when absent.
  virtual Result<RunRecord> get(const std::string& run_id) = 0;
  // kBadRequest for a malformed cursor.
  virtual Result<RunPage> list_for_user(const RunPageRequest& request) = 0;
  // Saves the mutable fields: state, times, reason, progress, engine_run_id. Each has one
  // writer (engine/workflow_engine.h): engine_run_id the API, the others the engine.
  virtual Status update(const RunRecord& record) = 0;
  // Oldest first; used at startup to recover queued and running runs.
  virtual Result<std::vector<RunRecord>> list_in_state(RunState state) = 0;
  virtual Result<std::map<RunState, int64_t>> count_by_state() = 0;

  // Background work of a backend that has some (a server ledger's reconnects); no-ops by
  // default. The app starts the ledger before the engine and stops it after.
  virtual void start() {}
  virtual void stop() {}
};

}  // namespace scigate
