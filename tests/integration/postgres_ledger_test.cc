// The PostgreSQL ledger against a real PostgreSQL 15 (tests/peers/postgres.sh, started by
// the CTest fixture `postgres`; POSTGRES_ENV names its postgres.env): the RunLedger
// contract, each test on a database of its own, then what only PostgreSQL has: query
// plans, migrations under concurrent starts, claims from several ledgers, and the server
// going away and coming back.
#include "ledger/postgres_ledger.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "contract/run_ledger_contract.h"
#include "integration/peer_env.h"
#include "ledger/ledger_factory.h"
#include "ledger/migrations.h"

namespace scigate {
namespace {

using contract::RunLedgerContract;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const std::map<std::string, std::string>& pg_env() {
  static const auto env = peer_env("POSTGRES_ENV");
  return env;
}

// postgresql://scigate@127.0.0.1:PORT/<database>
std::string url_of(const std::string& database) {
  std::string url = pg_env().at("PG_URL");
  return url.substr(0, url.rfind('/') + 1) + database;
}

// A connection of the test's own (not the ledger's), to `database`.
class Admin {
 public:
  explicit Admin(const std::string& database = "scigate") {
    std::string url = url_of(database);
    const char* keys[] = {"dbname", "password", nullptr};
    const char* values[] = {url.c_str(), pg_env().at("PG_PASSWORD").c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
  }
  ~Admin() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }
  // The rows of `sql`, each row's columns joined by '|'; "ERROR: ..." when it failed.
  std::vector<std::string> rows(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::vector<std::string> out;
    auto status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      out.push_back(std::string("ERROR: ") + PQresultErrorMessage(r));
    } else {
      for (int i = 0; i < PQntuples(r); ++i) {
        std::string row;
        for (int j = 0; j < PQnfields(r); ++j) row += (j ? "|" : "") + std::string(PQgetvalue(r, i, j));
        out.push_back(row);
      }
    }
    PQclear(r);
    return out;
  }
  void exec(const std::string& sql) {
    auto out = rows(sql);
    ASSERT_TRUE(out.empty() || out[0].rfind("ERROR: ", 0) != 0) << sql << ": " << out[0];
  }
  PGconn* raw() { return conn_; }

 private:
  PGconn* conn_;
};

// A database of its own for one test, dropped after it (its ledgers' connections too).
class TestDatabase {
 public:
  TestDatabase() {
    static std::atomic<int> counter{0};
    name_ = "ledger_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    Admin admin;
    ok_ = admin.ok() && admin.rows("CREATE DATABASE " + name_).empty();
  }
  ~TestDatabase() {
    Admin admin;
    admin.rows("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string url() const { return url_of(name_); }

 private:
  std::string name_;
  bool ok_ = false;
};

PostgresLedgerOptions options_for(const TestDatabase& db) {
  PostgresLedgerOptions o;
  o.url = db.url();
  o.password = pg_env().at("PG_PASSWORD");
  return o;
}

// The contract, through the factory, from the config form.
contract::LedgerUnderTest postgres_ledger() {
  if (pg_env().empty()) return {};
  auto db = std::make_shared<TestDatabase>();
  if (!db->ok()) return {};
  PostgresLedgerConfig pg;
  pg.url = db->url();
  pg.password = Secret("env:TEST", pg_env().at("PG_PASSWORD"));
  auto ledger = open_ledger(LedgerConfig{pg.url, pg});
  if (!ledger) {
    ADD_FAILURE() << ledger.error().internal;
    return {};
  }
  return {std::move(ledger).value(), db};
}

INSTANTIATE_TEST_SUITE_P(Postgres, RunLedgerContract,
                         ::testing::Values(contract::RunLedgerBackend{"postgres", postgres_ledger}),
                         contract::ledger_backend_name);

using contract::make_run;

class PostgresLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(pg_env().empty()) << "POSTGRES_ENV is not set: run through ctest (fixture postgres)";
    ASSERT_TRUE(db_.ok()) << "cannot create a test database";
  }
  std::unique_ptr<PostgresLedger> open(PostgresLedgerOptions o) {
    auto l = PostgresLedger::open(o);
    EXPECT_TRUE(l) << l.error().internal;
    return l ? std::move(l).value() : nullptr;
  }
  std::unique_ptr<PostgresLedger> open() { return open(options_for(db_)); }

  TestDatabase db_;
};

// The plans of the prepared statements themselves, as PostgreSQL would run them on a
// ledger of 20,000 runs: custom plans (the values known) and generic ones (the plan a
// prepared statement settles on after a few runs).
TEST_F(PostgresLedgerTest, PagesClaimsAndLeasesUseIndexes) {
  ASSERT_TRUE(open());
  Admin admin(db_.name());
  ASSERT_TRUE(admin.ok()) << admin.error();
  // 20 users, 5 workflows; one run in 500 queued and claimable, a few running and owned,
  // the rest finished.
  admin.exec(
      "INSERT INTO runs (run_id, workflow_id, username, data_selection, params_json, output_bucket, output_prefix, "
      "engine_run_id, state, created_us, engine_data, owner, lease_until_us) "
      "SELECT 'run-' || i, 'wf' || (i % 5), 'user' || (i % 20), 'd', '{}', 'b', 'p/', '', "
      "CASE WHEN i % 500 = 0 THEN 'queued' WHEN i % 500 = 1 THEN 'running' ELSE 'success' END, "
      "1700000000000000 + i, CASE WHEN i % 500 = 0 THEN 'x' ELSE '' END, "
      "CASE WHEN i % 500 = 1 THEN 'instance-' || (i % 3) ELSE '' END, "
      "CASE WHEN i % 500 = 1 THEN 1700000000000000 + i ELSE 0 END "
      "FROM generate_series(1, 20000) AS i");
  admin.exec("ANALYZE runs");
  ASSERT_EQ(admin.rows("SELECT COUNT(*) FROM runs"), std::vector<std::string>{"20000"});
  for (const auto& s : PostgresLedger::statements()) {
    ASSERT_TRUE(PQresultStatus(PQprepare(admin.raw(), s.name.c_str(), s.sql.c_str(), 0, nullptr)) == PGRES_COMMAND_OK)
        << s.name << ": " << PQerrorMessage(admin.raw());
  }
  struct Case {
    std::string call;  // EXECUTE ...
    bool ordered;      // a page: the index gives the order, no sort
  };
  const Case cases[] = {
      {"page('user7', 51)", true},
      {"page_workflow('user7', 'wf2', 51)", true},
      {"page_cursor('user7', 1700000000010000, 'run-10000', 51)", true},
      {"page_workflow_cursor('user7', 'wf2', 1700000000010000, 'run-10000', 51)", true},
      {"get('run-77')", false},
      {"claim('instance-9', 1800000000000000)", false},
      {"heartbeat('instance-1', 1800000000000000)", false},
      {"expire(1800000000000000)", false},
      {"in_state('queued')", false},
  };
  for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
    admin.exec(std::string("SET plan_cache_mode = ") + mode);
    for (const auto& c : cases) {
      std::string plan;
      for (const auto& line : admin.rows("EXPLAIN EXECUTE " + c.call)) plan += line + "\n";
      SCOPED_TRACE(std::string(mode) + " " + c.call + ":\n" + plan);
      EXPECT_EQ(plan.find("ERROR"), std::string::npos);
      EXPECT_EQ(plan.find("Seq Scan"), std::string::npos);
      EXPECT_NE(plan.find("Index"), std::string::npos);
      if (c.ordered) {
        EXPECT_EQ(plan.find("Sort"), std::string::npos);
      }
    }
  }
  // The statements did what the plans say they would, on this table.
  auto ledger = open();
  auto page = ledger->list_for_user({"user7", "wf2", 10, ""});
  ASSERT_TRUE(page) << page.error().internal;
  EXPECT_EQ(page->runs.size(), 10u);
  auto claimed = ledger->claim_next("me", 1800000000000000);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->run_id, "run-500");  // the oldest claimable
}

TEST_F(PostgresLedgerTest, RefusesALedgerOfANewerSchema) {
  ASSERT_TRUE(open());
  Admin admin(db_.name());
  admin.exec("INSERT INTO schema_migrations (version, applied_us) VALUES (" + std::to_string(kLedgerSchemaVersion + 1) +
             ", 0)");
  auto refused = PostgresLedger::open(options_for(db_));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInternal);
  EXPECT_NE(refused.error().internal.find("version " + std::to_string(kLedgerSchemaVersion + 1)), std::string::npos)
      << refused.error().internal;
  EXPECT_NE(refused.error().internal.find("newer"), std::string::npos) << refused.error().internal;
}

TEST_F(PostgresLedgerTest, MigratesOnceWhenInstancesStartTogether) {
  // Fresh databases, four instances starting at once on each (without the advisory lock
  // two of them would both add the same column and one would fail).
  for (int round = 0; round < 3; ++round) {
    TestDatabase db;
    ASSERT_TRUE(db.ok());
    std::vector<std::thread> starters;
    std::atomic<int> opened{0};
    std::vector<std::string> errors(4);
    for (int i = 0; i < 4; ++i) {
      starters.emplace_back([&, i] {
        auto l = PostgresLedger::open(options_for(db));
        if (l) {
          ++opened;
        } else {
          errors[i] = l.error().internal;
        }
      });
    }
    for (auto& t : starters) t.join();
    EXPECT_EQ(opened.load(), 4) << errors[0] << errors[1] << errors[2] << errors[3];
    Admin admin(db.name());
    EXPECT_EQ(admin.rows("SELECT version FROM schema_migrations ORDER BY version"),
              (std::vector<std::string>{"1", "2"}));
  }
}

// Two instances (two ledger objects, four connections each), eight threads claiming.
TEST_F(PostgresLedgerTest, ConcurrentClaimersNeverGetTheSameRun) {
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  constexpr int kRuns = 400;
  for (int i = 0; i < kRuns; ++i) {
    std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(a->insert(make_run(id, "u", 1000 + i)));
    ASSERT_TRUE(a->set_engine_data(id, "{\"steps\":1}"));
  }
  std::mutex mu;
  std::vector<std::string> claimed;
  std::atomic<int> failures{0};
  std::vector<std::thread> claimers;
  for (int t = 0; t < 8; ++t) {
    PostgresLedger* ledger = t % 2 ? a.get() : b.get();
    std::string owner = (t % 2 ? "instance-a-" : "instance-b-") + std::to_string(t);
    claimers.emplace_back([&, ledger, owner] {
      for (;;) {
        auto got = ledger->claim_next(owner, 1'900'000'000'000'000);
        if (!got) {
          ++failures;
          return;
        }
        if (!*got) return;
        EXPECT_EQ((*got)->owner, owner);
        std::lock_guard lock(mu);
        claimed.push_back((*got)->run_id);
      }
    });
  }
  for (auto& t : claimers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claimed.size(), size_t{kRuns});
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), size_t{kRuns});
  EXPECT_FALSE(*a->claim_next("late", 1'900'000'000'000'000));
}

// Two ledger objects on one database are two instances: what one records, the other
// sees and is bound by (claims, fencing, cancel flags, leases, logs, agreed settings).
TEST_F(PostgresLedgerTest, TwoInstancesCoordinateThroughTheLedger) {
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(a->insert(make_run("r" + std::to_string(i), "u", i)));
  ASSERT_TRUE(a->set_engine_data("r1", "{}"));
  ASSERT_TRUE(b->set_engine_data("r2", "{}"));
  EXPECT_EQ(a->set_engine_data("nope", "{}").error().code, ErrorCode::kNotFound);

  auto first = a->claim_next("A", 1000);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->run_id, "r1");
  EXPECT_EQ((*first)->lease_until_us, 1000);
  auto second = b->claim_next("B", 1000);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->run_id, "r2");
  EXPECT_FALSE(*a->claim_next("A", 1000));  // r3 has no engine data yet

  // Fencing: only the owner writes.
  RunRecord r1 = **first;
  r1.state = RunState::kRunning;
  r1.started_us = 10;
  ASSERT_TRUE(a->update(r1));
  RunRecord stolen = r1;
  stolen.owner = "B";
  EXPECT_EQ(b->update(stolen).error().code, ErrorCode::kConflict);

  // A cancel asked on B reaches A's heartbeat; an unclaimed run ends at once.
  auto flagged = b->request_cancel("r1", 500, "asked");
  ASSERT_TRUE(flagged) << flagged.error().internal;
  EXPECT_TRUE(flagged->cancel_requested);
  EXPECT_EQ(flagged->state, RunState::kRunning);
  EXPECT_EQ(a->heartbeat("A", 2000)->at("r1"), true);
  EXPECT_EQ(b->get("r1")->lease_until_us, 2000);
  auto ended = a->request_cancel("r3", 600, "not wanted");
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->state, RunState::kCanceled);
  EXPECT_EQ(ended->ended_us, 600);
  EXPECT_EQ(ended->reason, "not wanted");
  EXPECT_EQ(b->request_cancel("r3", 700, "again").error().code, ErrorCode::kConflict);
  EXPECT_EQ(b->request_cancel("nope", 700, "x").error().code, ErrorCode::kNotFound);

  // B gives r2 back; A takes it; A's lease on it lapses and r2 is queued again.
  ASSERT_TRUE(b->release("r2", "B"));
  EXPECT_EQ(a->get("r2")->owner, "");
  auto again = a->claim_next("A", 1500);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->run_id, "r2");
  EXPECT_TRUE(b->expire_leases(1800)->empty());
  EXPECT_EQ(a->get("r2")->owner, "");
  EXPECT_EQ(a->get("r1")->owner, "A");

  // A stops renewing: both instances expire at once, r1 ends once (canceled, as asked),
  // and A's late write is refused.
  std::vector<RunRecord> failed_a, failed_b;
  std::thread ta([&] { failed_a = a->expire_leases(2500).value(); });
  std::thread tb([&] { failed_b = b->expire_leases(2500).value(); });
  ta.join();
  tb.join();
  ASSERT_EQ(failed_a.size() + failed_b.size(), 1u);
  const RunRecord& failed = failed_a.empty() ? failed_b[0] : failed_a[0];
  EXPECT_EQ(failed.run_id, "r1");
  EXPECT_EQ(failed.state, RunState::kCanceled);
  EXPECT_EQ(failed.owner, "");
  EXPECT_NE(failed.reason.find("A"), std::string::npos) << failed.reason;
  r1.state = RunState::kSuccess;
  EXPECT_EQ(a->update(r1).error().code, ErrorCode::kConflict);
  EXPECT_EQ(b->get("r1")->state, RunState::kCanceled);

  // Logs: written by one, served by the other; retries change nothing, gaps are refused.
  ASSERT_TRUE(a->append_log("r1", 0, "abc"));
  ASSERT_TRUE(a->append_log("r1", 0, "abc"));
  ASSERT_TRUE(a->append_log("r1", 3, "def"));
  ASSERT_TRUE(a->append_log("r1", 2, "cdefg"));  // overlaps: only "g" is new
  EXPECT_EQ(a->append_log("r1", 10, "x").error().code, ErrorCode::kBadRequest);
  auto log = b->read_log("r1", 0, 100);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->bytes, "abcdefg");
  EXPECT_EQ(log->size, 7u);
  EXPECT_EQ(b->read_log("r1", 5, 1)->bytes, "f");
  EXPECT_EQ(b->read_log("r2", 0, 100)->size, 0u);

  ASSERT_TRUE(a->agree("signing_key_fingerprint", "v1"));
  EXPECT_TRUE(b->agree("signing_key_fingerprint", "v1"));
  EXPECT_EQ(b->agree("signing_key_fingerprint", "v2").error().code, ErrorCode::kConflict);
}

int postgres_sh(const std::string& command) {
  std::string cmd = std::string(SCIGATE_POSTGRES_SH) + " " + command + " '" + pg_env().at("PG_DIR") + "'";
  return std::system(cmd.c_str());
}

// PostgreSQL stops: calls answer kUnavailable within a few seconds (never hang, never
// crash, never show the password); it starts again: the same ledger object works,
// without a restart, and everything written before is there.
TEST_F(PostgresLedgerTest, ServerDownAnswersUnavailableThenRecovers) {
  auto ledger = open();
  ASSERT_TRUE(ledger);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ledger->insert(make_run("keep" + std::to_string(i), "thomas", 100 + i)));
  ASSERT_TRUE(ledger->append_log("keep0", 0, "first line\n"));
  ASSERT_TRUE(ledger->agree("signing_key_fingerprint", "abc"));
  // Every pooled connection in use once, so that all of them see the server go.
  {
    std::vector<std::thread> users;
    for (int t = 0; t < 4; ++t) users.emplace_back([&] { (void)ledger->count_by_state(); });
    for (auto& t : users) t.join();
  }

  ASSERT_EQ(postgres_sh("stop"), 0);
  struct Restart {
    ~Restart() { postgres_sh("restart"); }  // whatever the assertions below do
  } restart_anyway;
  const std::string& password = pg_env().at("PG_PASSWORD");
  auto expect_unavailable = [&](const char* what, auto call) {
    auto start = steady_clock::now();
    auto result = call();
    auto took = steady_clock::now() - start;
    ASSERT_FALSE(result) << what;
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable) << what << ": " << result.error().internal;
    EXPECT_EQ(result.error().client, "ledger unreachable") << what;
    EXPECT_EQ(result.error().internal.find(password), std::string::npos) << what;
    EXPECT_LT(took, std::chrono::seconds(3)) << what;
  };
  for (int round = 0; round < 2; ++round) {
    expect_unavailable("get", [&] { return ledger->get("keep1"); });
    expect_unavailable("insert", [&] { return ledger->insert(make_run("lost", "thomas", 999)); });
    expect_unavailable("page", [&] { return ledger->list_for_user({"thomas", "", 10, ""}); });
    expect_unavailable("claim", [&] { return ledger->claim_next("me", 1); });
    expect_unavailable("append_log", [&] { return ledger->append_log("keep0", 11, "second line\n"); });
    expect_unavailable("read_log", [&] { return ledger->read_log("keep0", 0, 100); });
  }
  auto start = steady_clock::now();
  auto refused = PostgresLedger::open(options_for(db_));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3));

  ASSERT_EQ(postgres_sh("restart"), 0);
  auto got = ledger->get("keep1");  // the first call after the restart already works
  ASSERT_TRUE(got) << got.error().internal;
  EXPECT_EQ(got->created_us, 101);
  auto page = ledger->list_for_user({"thomas", "", 100, ""});
  ASSERT_TRUE(page) << page.error().internal;
  EXPECT_EQ(page->runs.size(), 20u);
  EXPECT_EQ(ledger->get("lost").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(ledger->append_log("keep0", 11, "second line\n"));
  auto log = ledger->read_log("keep0", 0, 100);
  ASSERT_TRUE(log) << log.error().internal;
  EXPECT_EQ(log->bytes, "first line\nsecond line\n");
  EXPECT_TRUE(ledger->agree("signing_key_fingerprint", "abc"));
  EXPECT_EQ(ledger->agree("signing_key_fingerprint", "other").error().code, ErrorCode::kConflict);
  // All four pooled connections work again.
  std::vector<std::string> errors(8);
  std::vector<std::thread> users;
  for (int t = 0; t < 8; ++t) {
    users.emplace_back([&, t] {
      auto counts = ledger->count_by_state();
      if (!counts) errors[t] = counts.error().internal;
    });
  }
  for (auto& t : users) t.join();
  EXPECT_EQ(errors, std::vector<std::string>(8));
}

// A hung server (stopped processes: its kernel still accepts connections and answers
// keepalives, so only scigate's own deadline ends the wait): statement_timeout plus a
// second for a statement, connect_timeout for a reconnect, then it works again.
TEST_F(PostgresLedgerTest, HungServerAnswersUnavailableWithinTheDeadline) {
  auto o = options_for(db_);
  o.statement_timeout = milliseconds(1000);
  auto ledger = open(o);
  ASSERT_TRUE(ledger);
  ASSERT_TRUE(ledger->insert(make_run("r1", "u", 1)));
  ASSERT_EQ(postgres_sh("freeze"), 0);
  struct Thaw {
    ~Thaw() { postgres_sh("thaw"); }
  } thaw_anyway;
  for (int i = 0; i < 3; ++i) {
    auto start = steady_clock::now();
    auto got = ledger->get("r1");
    auto took = steady_clock::now() - start;
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().internal;
    EXPECT_LT(took, milliseconds(3500)) << got.error().internal;
    EXPECT_GT(took, milliseconds(900)) << got.error().internal;  // it did wait for the server
  }
  ASSERT_EQ(postgres_sh("thaw"), 0);
  auto got = ledger->get("r1");
  ASSERT_TRUE(got) << got.error().internal;
  EXPECT_TRUE(ledger->insert(make_run("r2", "u", 2)));
}

TEST_F(PostgresLedgerTest, AWrongPasswordIsRefusedWithoutShowingIt) {
  auto o = options_for(db_);
  o.password = "not-the-password-4711";
  auto refused = PostgresLedger::open(o);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().internal.find("4711"), std::string::npos) << refused.error().internal;
  EXPECT_NE(refused.error().internal.find("password authentication failed"), std::string::npos)
      << refused.error().internal;
}

// Logs in the ledger are bytes, not text: every byte value survives, in pieces.
TEST_F(PostgresLedgerTest, LogBytesRoundTripInBinary) {
  auto ledger = open();
  ASSERT_TRUE(ledger);
  ASSERT_TRUE(ledger->insert(make_run("bin", "u", 1)));
  std::string all;
  for (int i = 0; i < 3 * 256; ++i) all.push_back(static_cast<char>(i % 256));
  for (size_t at = 0; at < all.size(); at += 100) ASSERT_TRUE(ledger->append_log("bin", at, all.substr(at, 100)));
  auto whole = ledger->read_log("bin", 0, 10'000);
  ASSERT_TRUE(whole) << whole.error().internal;
  EXPECT_EQ(whole->size, all.size());
  EXPECT_EQ(whole->bytes, all);
  auto middle = ledger->read_log("bin", 150, 333);
  EXPECT_EQ(middle->bytes, all.substr(150, 333));
  auto past = ledger->read_log("bin", 5000, 10);
  EXPECT_EQ(past->bytes, "");
  EXPECT_EQ(past->size, all.size());
}

}  // namespace
}  // namespace scigate
