#include "ledger/sqlite_ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "temp_dir.h"

namespace scigate {
namespace {

using testing::TempDir;

RunRecord make_run(const std::string& id, const std::string& user, int64_t created,
                   const std::string& wf = "nebraska") {
  RunRecord r;
  r.run_id = id;
  r.workflow_id = wf;
  r.username = user;
  r.data_selection = "nebraska_images";
  r.output_bucket = "staging";
  r.output_prefix = user + "/" + id + "/";
  r.engine_run_id = id;
  r.created_us = created;
  return r;
}

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

TEST_F(LedgerTest, InsertGetUpdate) {
  ASSERT_TRUE(ledger_->insert(make_run("r1", "thomas", 100)));
  auto r = ledger_->get("r1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->state, RunState::kQueued);
  r->state = RunState::kFailed;
  r->reason = "step 'a' exited with status 3";
  r->tasks_done = 1;
  r->tasks_total = 2;
  r->ended_us = 200;
  ASSERT_TRUE(ledger_->update(*r));
  auto again = ledger_->get("r1");
  EXPECT_EQ(again->state, RunState::kFailed);
  EXPECT_EQ(again->reason, "step 'a' exited with status 3");
  EXPECT_EQ(again->tasks_done, 1);
  EXPECT_EQ(ledger_->get("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ledger_->update(make_run("nope", "x", 1)).error().code, ErrorCode::kNotFound);
}

TEST_F(LedgerTest, IdempotencyKeyIsPerUser) {
  auto a = make_run("r1", "thomas", 100);
  a.idempotency_key = "k1";
  auto first = ledger_->insert(a);
  ASSERT_TRUE(first && first->created);
  auto b = make_run("r2", "thomas", 200);
  b.idempotency_key = "k1";
  auto second = ledger_->insert(b);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->record.run_id, "r1");
  auto c = make_run("r3", "dliu", 300);
  c.idempotency_key = "k1";
  EXPECT_TRUE(ledger_->insert(c)->created);
  // Runs without a key never collide.
  EXPECT_TRUE(ledger_->insert(make_run("r4", "thomas", 400))->created);
  EXPECT_TRUE(ledger_->insert(make_run("r5", "thomas", 500))->created);
}

TEST_F(LedgerTest, PagesNewestFirstWithCursor) {
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(ledger_->insert(make_run("t" + std::to_string(i), "thomas", 1000 + i)));
  ASSERT_TRUE(ledger_->insert(make_run("same-time-a", "thomas", 2000)));
  ASSERT_TRUE(ledger_->insert(make_run("same-time-b", "thomas", 2000)));
  ASSERT_TRUE(ledger_->insert(make_run("other-wf", "thomas", 3000, "image_stats")));
  ASSERT_TRUE(ledger_->insert(make_run("d1", "dliu", 5000)));
  std::vector<std::string> seen;
  RunPageRequest req{"thomas", "nebraska", 10, ""};
  int pages = 0;
  do {
    auto page = ledger_->list_for_user(req);
    ASSERT_TRUE(page);
    for (auto& r : page->runs) seen.push_back(r.run_id);
    req.cursor = page->next_cursor;
    ++pages;
  } while (!req.cursor.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 27u);
  EXPECT_EQ(seen[0], "same-time-b");
  EXPECT_EQ(seen[1], "same-time-a");
  EXPECT_EQ(seen[2], "t24");
  EXPECT_EQ(seen.back(), "t0");
  auto all = ledger_->list_for_user({"thomas", "", 100, ""});
  EXPECT_EQ(all->runs.size(), 28u);
  EXPECT_EQ(ledger_->list_for_user({"thomas", "", 10, "garbage"}).error().code, ErrorCode::kBadRequest);
  // Found while writing the HTTP fuzz target (fuzz/corpus/http_request/cursor-overflow.http):
  // 19 digits beyond int64 made the handler throw (a 500) instead of a 400.
  EXPECT_EQ(ledger_->list_for_user({"thomas", "", 10, "9999999999999999999_t1"}).error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(ledger_->list_for_user({"thomas", "", 10, "9223372036854775807_t1"}));
}

TEST_F(LedgerTest, StateQueriesAndCounts) {
  auto a = make_run("a", "u", 1);
  auto b = make_run("b", "u", 2);
  b.state = RunState::kRunning;
  auto c = make_run("c", "u", 3);
  ASSERT_TRUE(ledger_->insert(a));
  ASSERT_TRUE(ledger_->insert(b));
  ASSERT_TRUE(ledger_->insert(c));
  auto queued = ledger_->list_in_state(RunState::kQueued);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].run_id, "a");
  auto counts = ledger_->count_by_state();
  EXPECT_EQ(counts->at(RunState::kQueued), 2);
  EXPECT_EQ(counts->at(RunState::kRunning), 1);
  EXPECT_EQ(counts->at(RunState::kSuccess), 0);
}

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
