// What every RunLedger backend guarantees (run_ledger_contract.h says how to run it).
#include "run_ledger_contract.h"

#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace scigate::contract {
namespace {

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
  // The same run id again (two instances syncing the same Airflow run) is a conflict.
  EXPECT_EQ(ledger().insert(make_run("r1", "someone-else", 5)).error().code, ErrorCode::kConflict);
  EXPECT_EQ(ledger().get("r1")->username, "thomas");
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

// --- Several instances on one ledger (run_ledger.h) ---

// A run the local engine has triggered: claimable.
void add_triggered(RunLedger& ledger, const std::string& id, int64_t created) {
  ASSERT_TRUE(ledger.insert(make_run(id, "thomas", created)));
  ASSERT_TRUE(ledger.set_engine_data(id, R"({"conf":{}})"));
}

TEST_P(RunLedgerContract, ClaimsTheOldestTriggeredRunOnce) {
  ASSERT_TRUE(ledger().insert(make_run("untriggered", "thomas", 50)));
  add_triggered(ledger(), "second", 200);
  add_triggered(ledger(), "first", 100);
  auto a = ledger().claim_next("instance-a", 5'000);
  ASSERT_TRUE(a) << a.error().internal;
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->run_id, "first");
  EXPECT_EQ((*a)->owner, "instance-a");
  EXPECT_EQ((*a)->lease_until_us, 5'000);
  EXPECT_EQ((*a)->engine_data, R"({"conf":{}})");
  EXPECT_EQ(ledger().get("first")->owner, "instance-a");
  EXPECT_EQ(ledger().claim_next("instance-b", 5'000).value()->run_id, "second");
  EXPECT_FALSE(ledger().claim_next("instance-b", 5'000).value().has_value());
  EXPECT_EQ(ledger().set_engine_data("nope", "{}").error().code, ErrorCode::kNotFound);
}

TEST_P(RunLedgerContract, ConcurrentClaimersNeverShareARun) {
  for (int i = 0; i < 60; ++i) add_triggered(ledger(), "run" + std::to_string(i), 1000 + i);
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> claimers;
  for (int t = 0; t < 6; ++t) {
    claimers.emplace_back([&, t] {
      while (true) {
        auto got = ledger().claim_next("instance-" + std::to_string(t), 1'000'000);
        EXPECT_TRUE(got);
        if (!got || !got->has_value()) return;
        std::lock_guard lock(mu);
        claimed.insert((*got)->run_id);
      }
    });
  }
  for (auto& c : claimers) c.join();
  EXPECT_EQ(claimed.size(), 60u);
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 60u);
}

// Only the owner's writes land; once its claim is gone (expired) they are refused.
TEST_P(RunLedgerContract, UpdatesAreFencedByTheOwner) {
  add_triggered(ledger(), "r1", 100);
  RunRecord run = ledger().claim_next("instance-a", 1'000).value().value();
  run.state = RunState::kRunning;
  RunRecord intruder = run;
  intruder.owner = "instance-b";
  EXPECT_EQ(ledger().update(intruder).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(ledger().update(run));
  EXPECT_EQ(ledger().get("r1")->state, RunState::kRunning);
  ASSERT_TRUE(ledger().expire_leases(2'000));
  run.state = RunState::kSuccess;
  EXPECT_EQ(ledger().update(run).error().code, ErrorCode::kConflict);
  EXPECT_EQ(ledger().get("r1")->state, RunState::kFailed);
}

TEST_P(RunLedgerContract, HeartbeatRenewsLeasesAndReportsCancels) {
  add_triggered(ledger(), "r1", 100);
  add_triggered(ledger(), "r2", 200);
  ASSERT_TRUE(ledger().claim_next("instance-a", 1'000).value());
  ASSERT_TRUE(ledger().claim_next("instance-b", 1'000).value());
  auto held = ledger().heartbeat("instance-a", 9'000);
  ASSERT_TRUE(held) << held.error().internal;
  EXPECT_EQ(*held, (std::map<std::string, bool>{{"r1", false}}));
  EXPECT_EQ(ledger().get("r1")->lease_until_us, 9'000);
  EXPECT_EQ(ledger().get("r2")->lease_until_us, 1'000);  // another owner's

  auto asked = ledger().request_cancel("r1", 500, "canceled by user");
  ASSERT_TRUE(asked) << asked.error().internal;
  EXPECT_EQ(asked->state, RunState::kQueued);  // claimed: its owner stops it
  EXPECT_TRUE(asked->cancel_requested);
  EXPECT_EQ(ledger().heartbeat("instance-a", 9'500).value(), (std::map<std::string, bool>{{"r1", true}}));
  EXPECT_EQ(ledger().heartbeat("instance-b", 9'500).value(), (std::map<std::string, bool>{{"r2", false}}));
  EXPECT_TRUE(ledger().heartbeat("instance-c", 9'500)->empty());
}

TEST_P(RunLedgerContract, CancelOfAnUnclaimedRunEndsIt) {
  add_triggered(ledger(), "r1", 100);
  auto done = ledger().request_cancel("r1", 777, "canceled by user");
  ASSERT_TRUE(done) << done.error().internal;
  EXPECT_EQ(done->state, RunState::kCanceled);
  EXPECT_EQ(done->reason, "canceled by user");
  EXPECT_EQ(done->ended_us, 777);
  EXPECT_FALSE(ledger().claim_next("instance-a", 1'000).value().has_value());
  EXPECT_EQ(ledger().request_cancel("r1", 800, "again").error().code, ErrorCode::kConflict);
  EXPECT_EQ(ledger().request_cancel("nope", 800, "x").error().code, ErrorCode::kNotFound);
}

TEST_P(RunLedgerContract, ExpiredLeasesEndRunningRunsAndRequeueClaimedOnes) {
  add_triggered(ledger(), "running", 100);
  add_triggered(ledger(), "claimed", 200);
  add_triggered(ledger(), "alive", 300);
  add_triggered(ledger(), "cancelling", 400);
  add_triggered(ledger(), "claimed-then-canceled", 500);
  RunRecord running = ledger().claim_next("dead", 1'000).value().value();
  running.state = RunState::kRunning;
  ASSERT_TRUE(ledger().update(running));
  ASSERT_TRUE(ledger().claim_next("dead", 1'000).value());  // "claimed", never started
  RunRecord alive = ledger().claim_next("live", 1'000'000).value().value();
  alive.state = RunState::kRunning;
  ASSERT_TRUE(ledger().update(alive));
  RunRecord cancelling = ledger().claim_next("dead", 1'000).value().value();
  cancelling.state = RunState::kRunning;
  ASSERT_TRUE(ledger().update(cancelling));
  ASSERT_TRUE(ledger().request_cancel("cancelling", 900, "canceled by user"));
  ASSERT_TRUE(ledger().claim_next("dead", 1'000).value());  // "claimed-then-canceled"
  ASSERT_TRUE(ledger().request_cancel("claimed-then-canceled", 900, "canceled by user"));

  auto ended = ledger().expire_leases(2'000);
  ASSERT_TRUE(ended) << ended.error().internal;
  std::set<std::string> ids;
  for (const auto& r : *ended) ids.insert(r.run_id);
  EXPECT_EQ(ids, (std::set<std::string>{"running", "cancelling"}));
  auto failed = ledger().get("running").value();
  EXPECT_EQ(failed.state, RunState::kFailed);
  EXPECT_NE(failed.reason.find("dead"), std::string::npos) << failed.reason;
  EXPECT_EQ(failed.ended_us, 2'000);
  EXPECT_EQ(failed.owner, "");
  EXPECT_EQ(ledger().get("cancelling")->state, RunState::kCanceled);
  // Flagged, it could never be claimed again: it ends rather than waiting for ever.
  auto never_started = ledger().get("claimed-then-canceled").value();
  EXPECT_EQ(never_started.state, RunState::kCanceled);
  EXPECT_EQ(never_started.reason, kCanceledBeforeStart);
  EXPECT_EQ(never_started.ended_us, 2'000);
  EXPECT_EQ(ledger().get("alive")->state, RunState::kRunning);
  EXPECT_EQ(ledger().get("claimed")->owner, "");
  EXPECT_EQ(ledger().claim_next("live", 1'000'000).value()->run_id, "claimed");  // back in the queue
  EXPECT_TRUE(ledger().expire_leases(2'000)->empty());                           // each run ended once
}

TEST_P(RunLedgerContract, ReleaseGivesAClaimBack) {
  add_triggered(ledger(), "r1", 100);
  ASSERT_TRUE(ledger().claim_next("instance-a", 1'000).value());
  ASSERT_TRUE(ledger().release("r1", "instance-b"));  // not its claim: nothing changes
  EXPECT_EQ(ledger().get("r1")->owner, "instance-a");
  ASSERT_TRUE(ledger().release("r1", "instance-a"));
  EXPECT_EQ(ledger().claim_next("instance-b", 1'000).value()->run_id, "r1");
}

TEST_P(RunLedgerContract, LogsAppendOnceAndReadFromAnyOffset) {
  ASSERT_TRUE(ledger().insert(make_run("r1", "thomas", 100)));
  ASSERT_TRUE(ledger().append_log("r1", 0, "hello "));
  ASSERT_TRUE(ledger().append_log("r1", 6, "world"));
  ASSERT_TRUE(ledger().append_log("r1", 0, "hello "));     // a retried append
  ASSERT_TRUE(ledger().append_log("r1", 3, "lo world!"));  // overlaps: only "!" is new
  EXPECT_EQ(ledger().append_log("r1", 20, "x").error().code, ErrorCode::kBadRequest);
  std::string binary("\0\xff\n", 3);
  ASSERT_TRUE(ledger().append_log("r1", 12, binary));
  auto all = ledger().read_log("r1", 0, 1 << 20);
  ASSERT_TRUE(all) << all.error().internal;
  EXPECT_EQ(all->bytes, "hello world!" + binary);
  EXPECT_EQ(all->size, 15u);
  EXPECT_EQ(ledger().read_log("r1", 3, 4)->bytes, "lo w");
  EXPECT_EQ(ledger().read_log("r1", 15, 10)->bytes, "");
  EXPECT_EQ(ledger().read_log("other", 0, 10)->size, 0u);
}

TEST_P(RunLedgerContract, InstancesAgreeOnSettings) {
  ASSERT_TRUE(ledger().agree("signing_key_check", "abc"));
  ASSERT_TRUE(ledger().agree("signing_key_check", "abc"));
  EXPECT_EQ(ledger().agree("signing_key_check", "xyz").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(ledger().agree("other", "xyz"));
}

}  // namespace
}  // namespace scigate::contract
