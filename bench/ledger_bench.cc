// A user's runs page with 100 vs 1,000,000 rows in the ledger: the cost must not grow
// with the table (an index range scan), whoever else has runs.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <memory>

#include "ledger/sqlite_ledger.h"

namespace {

// The measured user ("me") has 120 runs (60 nebraska) whatever the table size; the other
// rows belong to 1,000 other users. Filled with one SQL statement per part.
// Built once per size and kept for every benchmark of the process.
scigate::SqliteLedger* ledger_with(int64_t rows) {
  static std::map<int64_t, std::unique_ptr<scigate::SqliteLedger>> cache;
  if (auto it = cache.find(rows); it != cache.end()) return it->second.get();
  auto file = std::filesystem::temp_directory_path() / ("scigate-ledger-bench-" + std::to_string(rows) + ".db");
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  auto ledger = std::move(scigate::SqliteLedger::open(file)).value();
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  auto fill = [&](int64_t count, const std::string& user_expr, const std::string& id_prefix) {
    std::string sql = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < " +
                      std::to_string(count) +
                      ") INSERT INTO runs (run_id, workflow_id, username, data_selection, params_json, output_bucket, "
                      "output_prefix, engine_run_id, state, created_us) SELECT '" +
                      id_prefix +
                      "' || i, CASE i % 2 WHEN 0 THEN "
                      "'nebraska' ELSE 'image_stats' END, " +
                      user_expr +
                      ", 'sel', '{}', 'staging', 'p/', 'r' || i, 'success', "
                      "1000000 + i * 7 FROM n";
    sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  };
  fill(120, "'me'", "me");
  if (rows > 120) fill(rows - 120, "'user' || (i % 1000)", "o");
  sqlite3_close(db);
  return (cache[rows] = std::move(ledger)).get();
}

void BM_UserRunsPage(benchmark::State& state) {
  auto ledger = ledger_with(state.range(0));
  for (auto _ : state) {
    auto page = ledger->list_for_user({"me", "nebraska", 50, ""});
    if (page->runs.size() != 50) state.SkipWithError("expected a full page");
    benchmark::DoNotOptimize(page);
  }
  state.SetLabel(std::to_string(state.range(0)) + " rows");
}
BENCHMARK(BM_UserRunsPage)->Arg(120)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

void BM_UserRunsSecondPage(benchmark::State& state) {
  auto ledger = ledger_with(state.range(0));
  auto first = ledger->list_for_user({"me", "", 20, ""});
  std::string cursor = first->next_cursor;
  for (auto _ : state) {
    auto page = ledger->list_for_user({"me", "", 20, cursor});
    benchmark::DoNotOptimize(page);
  }
}
BENCHMARK(BM_UserRunsSecondPage)->Arg(120)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
