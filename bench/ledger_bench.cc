// A user's runs page with 120 vs 1,000,000 rows in the ledger: the cost must not grow
// with the table (an index range scan), whoever else has runs. On SQLite always, and on
// PostgreSQL too when PG_URL (postgresql://user@host:port/db) and PG_PASSWORD are set
// (bench/run-instances starts one); the user needs CREATEDB: each size gets a database.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "ledger/postgres_ledger.h"
#include "ledger/sqlite_ledger.h"

namespace {

// The measured user ("me") has 120 runs (60 nebraska) whatever the table size; the other
// rows belong to 1,000 other users. One INSERT ... SELECT per part, over `numbers`, a
// backend's source of integers i = 0 .. count-1 (`prefix` goes before the INSERT).
std::string fill_sql(int64_t count, const std::string& user_expr, const std::string& id_prefix, bool postgres) {
  const std::string n = std::to_string(count);
  std::string prefix =
      postgres ? "" : "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < " + n + ") ";
  std::string numbers = postgres ? "generate_series(0, " + n + " - 1) AS n(i)" : "n";
  return prefix +
         "INSERT INTO runs (run_id, workflow_id, username, data_selection, params_json, output_bucket, "
         "output_prefix, engine_run_id, state, created_us) SELECT '" +
         id_prefix + "' || i, CASE i % 2 WHEN 0 THEN 'nebraska' ELSE 'image_stats' END, " + user_expr +
         ", 'sel', '{}', 'staging', 'p/', 'r' || i, 'success', 1000000 + i * 7 FROM " + numbers;
}

std::vector<std::string> fill_statements(int64_t rows, bool postgres) {
  std::vector<std::string> out{fill_sql(120, "'me'", "me", postgres)};
  if (rows > 120) out.push_back(fill_sql(rows - 120, "'user' || (i % 1000)", "o", postgres));
  return out;
}

std::unique_ptr<scigate::RunLedger> sqlite_ledger(int64_t rows) {
  auto file = std::filesystem::temp_directory_path() / ("scigate-ledger-bench-" + std::to_string(rows) + ".db");
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  auto ledger = std::move(scigate::SqliteLedger::open(file)).value();
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  for (const auto& sql : fill_statements(rows, false)) sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return ledger;
}

// A libpq connection to `url` with the password apart; aborts the benchmark on failure
// (a bench without its peer measures nothing).
PGconn* pg_connect(const std::string& url, const std::string& password) {
  const char* keys[] = {"dbname", "password", nullptr};
  const char* values[] = {url.c_str(), password.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "ledger_bench: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
    std::exit(1);
  }
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  return c;
}

void pg_exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  auto status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "ledger_bench: %s: %s", sql.substr(0, 60).c_str(), PQerrorMessage(c));
    std::exit(1);
  }
  PQclear(r);
}

// PG_URL with its database replaced by `db`.
std::string with_database(const std::string& url, const std::string& db) {
  auto query = url.find('?');
  auto slash = url.rfind('/', query == std::string::npos ? std::string::npos : query);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

// A fresh database per size, so both sizes live side by side as they do on SQLite; the
// ledger makes its schema, then one INSERT ... SELECT per part and ANALYZE (the planner
// needs the table's statistics: a real ledger has them from autovacuum).
std::unique_ptr<scigate::RunLedger> postgres_ledger(int64_t rows) {
  const std::string url = std::getenv("PG_URL");
  const char* pw = std::getenv("PG_PASSWORD");
  const std::string password = pw ? pw : "";
  const std::string db = "scigate_ledger_bench_" + std::to_string(rows);
  PGconn* admin = pg_connect(url, password);
  pg_exec(admin, "DROP DATABASE IF EXISTS " + db);
  pg_exec(admin, "CREATE DATABASE " + db);
  PQfinish(admin);
  scigate::PostgresLedgerOptions options;
  options.url = with_database(url, db);
  options.password = password;
  options.statement_timeout = std::chrono::minutes(5);  // the fill below runs on its own connection
  auto ledger = scigate::PostgresLedger::open(options);
  if (!ledger) {
    std::fprintf(stderr, "ledger_bench: %s\n", ledger.error().internal.c_str());
    std::exit(1);
  }
  PGconn* c = pg_connect(options.url, password);
  for (const auto& sql : fill_statements(rows, true)) pg_exec(c, sql);
  pg_exec(c, "ANALYZE runs");
  PQfinish(c);
  return std::move(ledger).value();
}

using Maker = std::function<std::unique_ptr<scigate::RunLedger>(int64_t)>;

// Built once per backend and size, kept for every benchmark of the process.
scigate::RunLedger* ledger_with(const std::string& backend, const Maker& make, int64_t rows) {
  static std::map<std::pair<std::string, int64_t>, std::unique_ptr<scigate::RunLedger>> cache;
  auto key = std::make_pair(backend, rows);
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  return (cache[key] = make(rows)).get();
}

void BM_UserRunsPage(benchmark::State& state, const std::string& backend, const Maker& make) {
  auto ledger = ledger_with(backend, make, state.range(0));
  for (auto _ : state) {
    auto page = ledger->list_for_user({"me", "nebraska", 50, ""});
    if (!page || page->runs.size() != 50) state.SkipWithError("expected a full page");
    benchmark::DoNotOptimize(page);
  }
  state.SetLabel(backend + ", " + std::to_string(state.range(0)) + " rows");
}

void BM_UserRunsSecondPage(benchmark::State& state, const std::string& backend, const Maker& make) {
  auto ledger = ledger_with(backend, make, state.range(0));
  auto first = ledger->list_for_user({"me", "", 20, ""});
  std::string cursor = first->next_cursor;
  for (auto _ : state) {
    auto page = ledger->list_for_user({"me", "", 20, cursor});
    if (!page || page->runs.size() != 20) state.SkipWithError("expected a full page");
    benchmark::DoNotOptimize(page);
  }
  state.SetLabel(backend + ", " + std::to_string(state.range(0)) + " rows");
}

void register_backend(const std::string& backend, Maker make) {
  for (auto* fn : {&BM_UserRunsPage, &BM_UserRunsSecondPage}) {
    std::string name = fn == &BM_UserRunsPage ? "BM_UserRunsPage/" : "BM_UserRunsSecondPage/";
    benchmark::RegisterBenchmark((name + backend).c_str(), fn, backend, make)
        ->Arg(120)
        ->Arg(1'000'000)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_backend("sqlite", sqlite_ledger);
  if (std::getenv("PG_URL"))
    register_backend("postgres", postgres_ledger);
  else
    std::fprintf(stderr, "ledger_bench: PG_URL not set, SQLite only\n");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
