#include "ledger/sqlite_ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "contract/run_ledger_contract.h"
#include "ledger/ledger_factory.h"
#include "temp_dir.h"

namespace scigate {
namespace {

using contract::RunLedgerContract;
using testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = SqliteLedger::open(dir_.path() / "sub/ledger.db");
    ASSERT_TRUE(l) << l.error().internal;
    ledger_ = std::move(l).value();
  }
  TempDir dir_;
  std::unique_ptr<SqliteLedger> ledger_;
};

// What every ledger guarantees (insert, idempotency, pages, state queries, concurrency)
// is the RunLedger contract, tests/contract/run_ledger_contract.cc, run here on SQLite.
// Below: what only SQLite has (its query plans).
contract::LedgerUnderTest sqlite_ledger() {
  auto dir = std::make_shared<TempDir>();
  auto ledger =
      open_ledger(LedgerConfig{"", SqliteLedgerConfig{dir->path() / "sub/ledger.db"}});  // through the factory
  if (!ledger) return {};
  return {std::move(ledger).value(), dir};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, RunLedgerContract,
                         ::testing::Values(contract::RunLedgerBackend{"sqlite", sqlite_ledger}),
                         contract::ledger_backend_name);

TEST_F(LedgerTest, UserPageUsesTheIndex) {
  // The plan, not a timing: a page is an index range scan whatever the table size.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "sub/ledger.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE username='u' AND workflow_id='w' "
                               "AND (created_us, run_id) < (5, 'x') ORDER BY created_us DESC, run_id DESC LIMIT 51",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3)) + std::string("\n");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_NE(plan.find("USING INDEX runs_by_user_workflow"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

}  // namespace
}  // namespace scigate
