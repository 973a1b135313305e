// PostgreSQL RunLedger (libpq), for several scigate instances sharing one ledger
// (run_ledger.h says what they coordinate through it).
//  * A small pool of connections; a call waits a short while for a free one, then
//    answers kUnavailable (the ledger is saturated: 503 + Retry-After).
//  * Every statement is prepared once per connection (PQprepare) and run with text
//    parameters; a log's bytes go and come back in binary.
//  * Opening applies the shared migrations (migrations.h) above the recorded version,
//    each in a transaction under an advisory lock, so instances starting together apply
//    each one once; a ledger recorded at a newer version than this scigate knows is
//    refused.
//  * Failure: a statement that finds its connection broken (PostgreSQL restarted or
//    unreachable) answers kUnavailable ("ledger unreachable") and the connection is
//    re-established on its next use: no restart needed once PostgreSQL is back. Connect
//    timeout, statement timeout, TCP keepalives and a deadline of its own (a hung
//    server: statement_timeout + 1 s) bound how long a call can block.
// The password is passed apart from the URL and never appears in a message.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/run_ledger.h"

namespace scigate {

struct PostgresLedgerOptions {
  std::string url;       // postgresql://user@host:port/db?params, without a password
  std::string password;  // empty: none (or libpq's own sources, e.g. ~/.pgpass)
  int pool_size = 4;
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds connect_timeout{2000};  // libpq counts whole seconds (at least 2)
  std::chrono::milliseconds pool_wait{2000};        // for a free connection before kUnavailable
};

class PostgresLedger final : public RunLedger {
 public:
  // Connects, migrates; kUnavailable when PostgreSQL cannot be reached, kInternal (with
  // what to do) for a ledger of a newer schema.
  static Result<std::unique_ptr<PostgresLedger>> open(const PostgresLedgerOptions& options);
  ~PostgresLedger() override;

  Result<InsertOutcome> insert(const RunRecord& record) override;
  Result<RunRecord> get(const std::string& run_id) override;
  Result<RunPage> list_for_user(const RunPageRequest& request) override;
  Status update(const RunRecord& record) override;
  Result<std::vector<RunRecord>> list_in_state(RunState state) override;
  Result<std::map<RunState, int64_t>> count_by_state() override;
  Status agree(const std::string& name, const std::string& value) override;
  Status set_engine_data(const std::string& run_id, const std::string& data) override;
  Result<std::optional<RunRecord>> claim_next(const std::string& owner, int64_t lease_until_us) override;
  Result<std::map<std::string, bool>> heartbeat(const std::string& owner, int64_t lease_until_us) override;
  Status release(const std::string& run_id, const std::string& owner) override;
  Result<RunRecord> request_cancel(const std::string& run_id, int64_t now_us, const std::string& reason) override;
  Result<std::vector<RunRecord>> expire_leases(int64_t now_us) override;
  Status append_log(const std::string& run_id, uint64_t offset, std::string_view bytes) override;
  Result<LedgerLog> read_log(const std::string& run_id, uint64_t offset, size_t max) override;

  // What each connection prepares, by name (tests EXPLAIN them).
  struct Statement {
    std::string name;
    std::string sql;
  };
  static const std::vector<Statement>& statements();

  class Connection;  // one libpq connection and its prepared statements

 private:
  explicit PostgresLedger(PostgresLedgerOptions options);

  // A connection from the pool, connected (and its statements prepared: not before the
  // migrations made the tables); back to the pool when the lease dies.
  class Lease;
  Result<Lease> acquire(bool prepare = true);
  void give_back(Connection* c);

  PostgresLedgerOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::atomic<bool> reachable_{true};
};

}  // namespace scigate
