// What every RunLedger backend guarantees (run_ledger_contract.h says how to run it).
#include "run_ledger_contract.h"

#include <set>
#include <thread>
#include <vector>

namespace scigate::contract {
namespace {

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

TEST_P(RunLedgerContract, InsertKeepsEveryField) {
  RunRecord r = make_run("r1", "thomas", 1'700'000'000'000'001);
  r.params_json = R"({"tile_size":64,"note":"é ✓"})";
  r.idempotency_key = "key-1";
  r.engine_run_id = "engine-r1";
  auto inserted = ledger().insert(r);
  ASSERT_TRUE(inserted) << inserted.error().internal;
  EXPECT_TRUE(inserted->created);
  auto got = ledger().get("r1");
  ASSERT_TRUE(got) << got.error().internal;
  EXPECT_EQ(got->workflow_id, "nebraska");
  EXPECT_EQ(got->username, "thomas");
  EXPECT_EQ(got->data_selection, "nebraska_images");
  EXPECT_EQ(got->params_json, r.params_json);
  EXPECT_EQ(got->output_bucket, "staging");
  EXPECT_EQ(got->output_prefix, "thomas/r1/");
  EXPECT_EQ(got->engine_run_id, "engine-r1");
  EXPECT_EQ(got->state, RunState::kQueued);
  EXPECT_EQ(got->created_us, 1'700'000'000'000'001);
  EXPECT_EQ(got->idempotency_key, "key-1");
  EXPECT_EQ(ledger().get("nope").error().code, ErrorCode::kNotFound);
}

// update() saves the mutable fields (the ones engines and the API own, workflow_engine.h)
// and nothing else: the identity fields stay as inserted.
TEST_P(RunLedgerContract, UpdateSavesTheMutableFieldsOnly) {
  ASSERT_TRUE(ledger().insert(make_run("r1", "thomas", 100)));
  RunRecord r = ledger().get("r1").value();
  r.state = RunState::kFailed;
  r.started_us = 150;
  r.ended_us = 200;
  r.reason = "step 'a' exited with status 3";
  r.tasks_done = 1;
  r.tasks_total = 2;
  r.engine_run_id = "engine-7";
  r.username = "mallory";
  r.output_prefix = "mallory/";
  r.params_json = R"({"x":1})";
  ASSERT_TRUE(ledger().update(r));
  auto again = ledger().get("r1").value();
  EXPECT_EQ(again.state, RunState::kFailed);
  EXPECT_EQ(again.started_us, 150);
  EXPECT_EQ(again.ended_us, 200);
  EXPECT_EQ(again.reason, "step 'a' exited with status 3");
  EXPECT_EQ(again.tasks_done, 1);
  EXPECT_EQ(again.tasks_total, 2);
  EXPECT_EQ(again.engine_run_id, "engine-7");
  EXPECT_EQ(again.username, "thomas");
  EXPECT_EQ(again.output_prefix, "thomas/r1/");
  EXPECT_EQ(again.params_json, "{}");
  EXPECT_EQ(ledger().update(make_run("nope", "x", 1)).error().code, ErrorCode::kNotFound);
}

TEST_P(RunLedgerContract, IdempotencyKeyIsPerUser) {
  auto a = make_run("r1", "thomas", 100);
  a.idempotency_key = "k1";
  auto first = ledger().insert(a);
  ASSERT_TRUE(first && first->created);
  auto b = make_run("r2", "thomas", 200);
  b.idempotency_key = "k1";
  auto second = ledger().insert(b);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->record.run_id, "r1");
  EXPECT_EQ(ledger().get("r2").error().code, ErrorCode::kNotFound);
  auto c = make_run("r3", "dliu", 300);
  c.idempotency_key = "k1";
  EXPECT_TRUE(ledger().insert(c)->created);
  // Runs without a key never collide.
  EXPECT_TRUE(ledger().insert(make_run("r4", "thomas", 400))->created);
  EXPECT_TRUE(ledger().insert(make_run("r5", "thomas", 500))->created);
}

TEST_P(RunLedgerContract, PagesNewestFirstWithCursor) {
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(ledger().insert(make_run("t" + std::to_string(i), "thomas", 1000 + i)));
  ASSERT_TRUE(ledger().insert(make_run("same-time-a", "thomas", 2000)));
  ASSERT_TRUE(ledger().insert(make_run("same-time-b", "thomas", 2000)));
  ASSERT_TRUE(ledger().insert(make_run("other-wf", "thomas", 3000, "image_stats")));
  ASSERT_TRUE(ledger().insert(make_run("d1", "dliu", 5000)));
  std::vector<std::string> seen;
  RunPageRequest req{"thomas", "nebraska", 10, ""};
  int pages = 0;
  do {
    auto page = ledger().list_for_user(req);
    ASSERT_TRUE(page) << page.error().internal;
    for (auto& r : page->runs) seen.push_back(r.run_id);
    req.cursor = page->next_cursor;
    ASSERT_LT(++pages, 10);
  } while (!req.cursor.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 27u);
  EXPECT_EQ(seen[0], "same-time-b");
  EXPECT_EQ(seen[1], "same-time-a");
  EXPECT_EQ(seen[2], "t24");
  EXPECT_EQ(seen.back(), "t0");
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  auto all = ledger().list_for_user({"thomas", "", 100, ""});
  EXPECT_EQ(all->runs.size(), 28u);
  EXPECT_TRUE(all->next_cursor.empty());
  auto dliu = ledger().list_for_user({"dliu", "", 100, ""});
  ASSERT_EQ(dliu->runs.size(), 1u);  // per-user isolation
  EXPECT_EQ(dliu->runs[0].run_id, "d1");
  EXPECT_TRUE(ledger().list_for_user({"nobody", "", 10, ""})->runs.empty());
  EXPECT_EQ(ledger().list_for_user({"thomas", "", 10, "garbage"}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(ledger().list_for_user({"thomas", "", 10, "9999999999999999999_t1"}).error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(ledger().list_for_user({"thomas", "", 10, "9223372036854775807_t1"}));
}

TEST_P(RunLedgerContract, StateQueriesAndCounts) {
  auto a = make_run("a", "u", 1);
  auto b = make_run("b", "u", 2);
  b.state = RunState::kRunning;
  auto c = make_run("c", "u", 3);
  ASSERT_TRUE(ledger().insert(a));
  ASSERT_TRUE(ledger().insert(b));
  ASSERT_TRUE(ledger().insert(c));
  auto queued = ledger().list_in_state(RunState::kQueued);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].run_id, "a");  // oldest first
  EXPECT_EQ((*queued)[1].run_id, "c");
  auto counts = ledger().count_by_state();
  EXPECT_EQ(counts->at(RunState::kQueued), 2);
  EXPECT_EQ(counts->at(RunState::kRunning), 1);
  EXPECT_EQ(counts->at(RunState::kSuccess), 0);
}

TEST_P(RunLedgerContract, ConcurrentWritersLoseNothing) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(ledger().insert(make_run(id, "user" + std::to_string(t), 1 + t * 100 + i)));
        RunRecord r = make_run(id, "", 0);
        r.state = RunState::kRunning;
        EXPECT_TRUE(ledger().update(r));
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(ledger().count_by_state()->at(RunState::kRunning), 100);
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(ledger().list_for_user({"user" + std::to_string(t), "", 100, ""})->runs.size(), 25u);
}

}  // namespace
}  // namespace scigate::contract
