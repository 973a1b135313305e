#include "ledger/sqlite_ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "contract/run_ledger_contract.h"
#include "ledger/ledger_factory.h"
#include "ledger/migrations.h"
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

// Runs SQL on a ledger file outside the ledger (as another program would).
void exec_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// A ledger made by the first scigate (no schema_migrations, runs without the columns of
// migration 2) opens with its runs intact and gains what several instances need.
TEST(LedgerMigrationTest, UpgradesAFirstVersionLedgerKeepingItsRuns) {
  TempDir dir;
  auto file = dir.path() / "old.db";
  exec_sql(file,
           "CREATE TABLE runs (run_id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, username TEXT NOT NULL, "
           "data_selection TEXT NOT NULL, params_json TEXT NOT NULL, output_bucket TEXT NOT NULL, output_prefix TEXT "
           "NOT NULL, engine_run_id TEXT NOT NULL, state TEXT NOT NULL, created_us INTEGER NOT NULL, started_us "
           "INTEGER NOT NULL DEFAULT 0, ended_us INTEGER NOT NULL DEFAULT 0, idempotency_key TEXT, reason TEXT NOT "
           "NULL DEFAULT '', tasks_done INTEGER NOT NULL DEFAULT 0, tasks_total INTEGER NOT NULL DEFAULT 0);"
           "INSERT INTO runs VALUES ('old-run','nebraska','thomas','sel','{}','b','p/','old-run','success',"
           "1700000000000000,1,2,NULL,'',3,3);");
  auto ledger = SqliteLedger::open(file);
  ASSERT_TRUE(ledger) << ledger.error().internal;
  auto old = (*ledger)->get("old-run");
  ASSERT_TRUE(old) << old.error().internal;
  EXPECT_EQ(old->state, RunState::kSuccess);
  EXPECT_EQ(old->tasks_done, 3);
  EXPECT_EQ(old->owner, "");
  ASSERT_TRUE((*ledger)->append_log("old-run", 0, "log"));
  ledger->reset();
  ASSERT_TRUE(SqliteLedger::open(file)) << "opening again applies nothing twice";
}

TEST(LedgerMigrationTest, RefusesALedgerFromANewerScigate) {
  TempDir dir;
  auto file = dir.path() / "new.db";
  ASSERT_TRUE(SqliteLedger::open(file));
  exec_sql(file, "INSERT INTO schema_migrations VALUES (" + std::to_string(kLedgerSchemaVersion + 1) + ", 0)");
  auto refused = SqliteLedger::open(file);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().internal.find("newer"), std::string::npos) << refused.error().internal;
}

}  // namespace
}  // namespace scigate
