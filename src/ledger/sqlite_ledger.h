// SQLite RunLedger (WAL). One connection behind a mutex: SQLite serialises writers
// anyway, and the ledger's statements are index lookups of microseconds. Several
// processes on one machine may share the file (writes that read first take the write
// lock at once: BEGIN IMMEDIATE).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "ledger/run_ledger.h"

struct sqlite3;

namespace scigate {

class SqliteLedger final : public RunLedger {
 public:
  // Creates the file, its folder and the schema when missing.
  static Result<std::unique_ptr<SqliteLedger>> open(const std::filesystem::path& file);
  ~SqliteLedger() override;

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

 private:
  explicit SqliteLedger(sqlite3* db) : db_(db) {}
  Status migrate();
  Result<RunRecord> get_locked(const std::string& run_id);

  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace scigate
