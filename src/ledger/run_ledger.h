// RunLedger: the durable record of who started which run, when, on what, with which
// params and output prefix, and its last known state. Backends: SQLite (embedded,
// sqlite_ledger.h) and PostgreSQL (several instances, postgres_ledger.h). Thread-safe.
// Listing a user's runs is an index range scan, so a page costs the same with 100 or
// 1,000,000 rows.
//
// Several scigate instances may share one ledger. What they coordinate through it:
//  * idempotency keys (a unique index: two instances never create two runs for one key);
//  * settings they must agree on (agree(): the signing key's fingerprint);
//  * the local engine's runs: a triggered run (engine_data set) is claimed by one instance
//    (claim_next: oldest first, two claimers never get the same run) for a lease that its
//    heartbeat renews; a cancel asked on any instance is a flag its owner's heartbeat
//    reads; a run whose owner stopped renewing is ended by whichever instance sees the
//    lease expired (expire_leases), and claimed-but-not-started runs go back to the queue;
//    the owner ships the run's log into the ledger so any instance can serve it.
//  * fencing: update() only writes when the record's `owner` is still the row's owner, so
//    an instance that lost its claim (its lease expired while it stalled) cannot overwrite
//    what another instance recorded; it gets kConflict and stops the run.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// Part of a run's log kept in the ledger.
// The reason of a claimed run whose cancel was asked for and whose owner died before
// starting it (expire_leases).
inline constexpr const char* kCanceledBeforeStart = "canceled by user (before it started)";

struct LedgerLog {
  std::string bytes;  // from the offset asked for, at most the maximum asked for
  uint64_t size = 0;  // how much of the log the ledger holds
};

class RunLedger {
 public:
  virtual ~RunLedger() = default;

  // Inserts `record` (its engine_data, owner, lease and cancel flag as given, normally
  // empty). When it has an idempotency key already used by the same user, returns the
  // existing run with created=false instead. kConflict when a run with its run_id exists
  // (`scigate ledger sync` on two instances at once).
  virtual Result<InsertOutcome> insert(const RunRecord& record) = 0;
  // kNotFound when absent.
  virtual Result<RunRecord> get(const std::string& run_id) = 0;
  // kBadRequest for a malformed cursor.
  virtual Result<RunPage> list_for_user(const RunPageRequest& request) = 0;
  // Saves the mutable fields: state, times, reason, progress, engine_run_id. Each has one
  // writer (engine/workflow_engine.h): engine_run_id the API, the others the engine.
  // Only while `record.owner` is the row's owner (fencing, above): else kConflict.
  // kNotFound when there is no such run.
  virtual Status update(const RunRecord& record) = 0;
  // Oldest first; used at startup to recover queued and running runs.
  virtual Result<std::vector<RunRecord>> list_in_state(RunState state) = 0;
  virtual Result<std::map<RunState, int64_t>> count_by_state() = 0;

  // --- Several instances (see above) ---
  // Stores `value` under `name` when nothing is stored yet; ok when the stored value is
  // `value`, kConflict when it is another.
  virtual Status agree(const std::string& name, const std::string& value) = 0;
  // Saves what the engine needs to start the run later, on any instance: from then on it
  // may be claimed. kNotFound when there is no such run.
  virtual Status set_engine_data(const std::string& run_id, const std::string& data) = 0;
  // Atomically gives the oldest queued run that has engine_data, no owner and no cancel
  // request to `owner` until `lease_until_us`, and returns it (owner and lease set);
  // nullopt when there is none. Concurrent callers never get the same run.
  virtual Result<std::optional<RunRecord>> claim_next(const std::string& owner, int64_t lease_until_us) = 0;
  // Renews the lease of every unfinished run `owner` holds; returns them, run id →
  // whether its cancel was requested. A run the owner thinks it holds and that is not
  // there has ended or was lost (expire_leases).
  virtual Result<std::map<std::string, bool>> heartbeat(const std::string& owner, int64_t lease_until_us) = 0;
  // Gives a claimed run that is still queued back to the queue (owner cleared).
  virtual Status release(const std::string& run_id, const std::string& owner) = 0;
  // Asks for a queued or running run to be canceled: a run nobody has claimed ends at
  // once (canceled, `reason`, ended at `now_us`); a claimed one gets its cancel flag for
  // its owner to act on. Returns the record as it now is; kConflict for a finished run,
  // kNotFound when there is no such run.
  virtual Result<RunRecord> request_cancel(const std::string& run_id, int64_t now_us, const std::string& reason) = 0;
  // Ends what owners whose lease expired before `now_us` left: running runs become
  // failed (reason names the owner; owner cleared, so a stalled owner's later writes
  // are refused), claimed queued runs go back to the queue; either ends canceled instead
  // when its cancel was asked for. Returns the running runs it ended.
  // Safe on every instance at once: each run is ended once.
  virtual Result<std::vector<RunRecord>> expire_leases(int64_t now_us) = 0;
  // Appends `bytes` at `offset` of the run's log held in the ledger. Appending at an
  // offset already held changes nothing (a retried append); a gap is kBadRequest.
  virtual Status append_log(const std::string& run_id, uint64_t offset, std::string_view bytes) = 0;
  // The ledger's copy of the log from `offset` on, at most `max` bytes.
  virtual Result<LedgerLog> read_log(const std::string& run_id, uint64_t offset, size_t max) = 0;

  // Background work of a backend that has some (a server ledger's reconnects); no-ops by
  // default. The app starts the ledger before the engine and stops it after.
  virtual void start() {}
  virtual void stop() {}
};

}  // namespace scigate
