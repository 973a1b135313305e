// SQLite RunLedger (WAL). One connection behind a mutex: SQLite serialises writers
// anyway, and the ledger's statements are index lookups of microseconds.
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

 private:
  explicit SqliteLedger(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace scigate
