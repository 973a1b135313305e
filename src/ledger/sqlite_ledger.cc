#include "ledger/sqlite_ledger.h"

#include <sqlite3.h>

#include <charconv>
#include <variant>

namespace scigate {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  username TEXT NOT NULL,
  data_selection TEXT NOT NULL,
  params_json TEXT NOT NULL,
  output_bucket TEXT NOT NULL,
  output_prefix TEXT NOT NULL,
  engine_run_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  started_us INTEGER NOT NULL DEFAULT 0,
  ended_us INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  reason TEXT NOT NULL DEFAULT '',
  tasks_done INTEGER NOT NULL DEFAULT 0,
  tasks_total INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_user ON runs(username, created_us DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_by_user_workflow ON runs(username, workflow_id, created_us DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state, created_us);
CREATE UNIQUE INDEX IF NOT EXISTS runs_idempotency ON runs(username, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql";

constexpr const char* kColumns =
    "run_id, workflow_id, username, data_selection, params_json, output_bucket, output_prefix, engine_run_id, "
    "state, created_us, started_us, ended_us, idempotency_key, reason, tasks_done, tasks_total";

using Arg = std::variant<std::string, int64_t, std::nullptr_t>;

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  void bind(const std::vector<Arg>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* s = std::get_if<std::string>(&args[i])) {
        sqlite3_bind_text(stmt_, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else if (auto* n = std::get_if<int64_t>(&args[i])) {
        sqlite3_bind_int64(stmt_, idx, *n);
      } else {
        sqlite3_bind_null(stmt_, idx);
      }
    }
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  Error error(const std::string& what) const { return Error::internal_error(what + ": " + sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

RunRecord read_row(const Stmt& s) {
  RunRecord r;
  r.run_id = s.text(0);
  r.workflow_id = s.text(1);
  r.username = s.text(2);
  r.data_selection = s.text(3);
  r.params_json = s.text(4);
  r.output_bucket = s.text(5);
  r.output_prefix = s.text(6);
  r.engine_run_id = s.text(7);
  r.state = parse_run_state(s.text(8)).value_or(RunState::kFailed);
  r.created_us = s.integer(9);
  r.started_us = s.integer(10);
  r.ended_us = s.integer(11);
  r.idempotency_key = s.text(12);
  r.reason = s.text(13);
  r.tasks_done = static_cast<int>(s.integer(14));
  r.tasks_total = static_cast<int>(s.integer(15));
  return r;
}

Result<std::vector<RunRecord>> run_query(sqlite3* db, const std::string& sql, const std::vector<Arg>& args) {
  Stmt s(db, sql);
  if (!s.ok()) return s.error("prepare");
  s.bind(args);
  std::vector<RunRecord> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_row(s));
  if (rc != SQLITE_DONE) return s.error("query");
  return out;
}

Status run_exec(sqlite3* db, const std::string& sql, const std::vector<Arg>& args, int* rc_out = nullptr) {
  Stmt s(db, sql);
  if (!s.ok()) return s.error("prepare");
  s.bind(args);
  int rc = s.step();
  if (rc_out) *rc_out = rc;
  if (rc != SQLITE_DONE) return s.error("exec");
  return ok_status();
}

// Cursor = "<created_us>_<run_id>" of the last run of the previous page.
bool parse_cursor(const std::string& cursor, int64_t& created, std::string& run_id) {
  auto sep = cursor.find('_');
  if (sep == std::string::npos || sep == 0 || sep > 19 || sep + 1 >= cursor.size()) return false;
  for (size_t i = 0; i < sep; ++i) {
    if (cursor[i] < '0' || cursor[i] > '9') return false;
  }
  // The cursor comes from the caller: 19 digits may exceed int64 (stoll would throw).
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + sep, created);
  if (ec != std::errc() || end != cursor.data() + sep) return false;
  run_id = cursor.substr(sep + 1);
  return true;
}

}  // namespace

Result<std::unique_ptr<SqliteLedger>> SqliteLedger::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::internal_error("cannot open ledger " + file.string() + ": " + msg);
  }
  std::unique_ptr<SqliteLedger> ledger(new SqliteLedger(db));
  char* err = nullptr;
  std::string setup =
      std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;") + kSchema;
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Error::internal_error("cannot set up ledger " + file.string() + ": " + msg);
  }
  return ledger;
}

SqliteLedger::~SqliteLedger() { sqlite3_close(db_); }

Result<InsertOutcome> SqliteLedger::insert(const RunRecord& r) {
  std::lock_guard lock(mu_);
  Arg idem = r.idempotency_key.empty() ? Arg(nullptr) : Arg(r.idempotency_key);
  std::string sql = std::string("INSERT INTO runs (") + kColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (username, idempotency_key) "
                    "WHERE idempotency_key IS NOT NULL DO NOTHING";
  Stmt s(db_, sql);
  if (!s.ok()) return s.error("prepare insert");
  s.bind({r.run_id, r.workflow_id, r.username, r.data_selection, r.params_json, r.output_bucket, r.output_prefix,
          r.engine_run_id, std::string(to_string(r.state)), r.created_us, r.started_us, r.ended_us, idem, r.reason,
          int64_t{r.tasks_done}, int64_t{r.tasks_total}});
  if (s.step() != SQLITE_DONE) return s.error("insert run");
  if (sqlite3_changes(db_) == 1) return InsertOutcome{r, true};
  auto existing =
      run_query(db_, std::string("SELECT ") + kColumns + " FROM runs WHERE username=? AND idempotency_key=?",
                {r.username, r.idempotency_key});
  if (!existing) return existing.error();
  if (existing->empty()) return Error::internal_error("insert ignored but no idempotent twin found");
  return InsertOutcome{existing->front(), false};
}

Result<RunRecord> SqliteLedger::get(const std::string& run_id) {
  std::lock_guard lock(mu_);
  auto rows = run_query(db_, std::string("SELECT ") + kColumns + " FROM runs WHERE run_id=?", {run_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Error::not_found("no such run");
  return rows->front();
}

Result<RunPage> SqliteLedger::list_for_user(const RunPageRequest& req) {
  int64_t cursor_created = 0;
  std::string cursor_run;
  if (!req.cursor.empty() && !parse_cursor(req.cursor, cursor_created, cursor_run)) {
    return Error::bad_request("invalid cursor");
  }
  std::string sql = std::string("SELECT ") + kColumns + " FROM runs WHERE username=?";
  std::vector<Arg> args{req.username};
  if (!req.workflow_id.empty()) {
    sql += " AND workflow_id=?";
    args.emplace_back(req.workflow_id);
  }
  if (!req.cursor.empty()) {
    sql += " AND (created_us, run_id) < (?, ?)";
    args.emplace_back(cursor_created);
    args.emplace_back(cursor_run);
  }
  sql += " ORDER BY created_us DESC, run_id DESC LIMIT ?";
  args.emplace_back(int64_t{req.limit + 1});
  std::lock_guard lock(mu_);
  auto rows = run_query(db_, sql, args);
  if (!rows) return rows.error();
  RunPage page;
  page.runs = std::move(rows).value();
  if (static_cast<int>(page.runs.size()) > req.limit) {
    page.runs.pop_back();
    const auto& last = page.runs.back();
    page.next_cursor = std::to_string(last.created_us) + "_" + last.run_id;
  }
  return page;
}

Status SqliteLedger::update(const RunRecord& r) {
  std::lock_guard lock(mu_);
  auto st = run_exec(db_,
                     "UPDATE runs SET state=?, started_us=?, ended_us=?, reason=?, tasks_done=?, tasks_total=?, "
                     "engine_run_id=? WHERE run_id=?",
                     {std::string(to_string(r.state)), r.started_us, r.ended_us, r.reason, int64_t{r.tasks_done},
                      int64_t{r.tasks_total}, r.engine_run_id, r.run_id});
  if (!st) return st;
  if (sqlite3_changes(db_) != 1) return Error::not_found("no such run");
  return ok_status();
}

Result<std::vector<RunRecord>> SqliteLedger::list_in_state(RunState state) {
  std::lock_guard lock(mu_);
  return run_query(db_, std::string("SELECT ") + kColumns + " FROM runs WHERE state=? ORDER BY created_us, run_id",
                   {std::string(to_string(state))});
}

Result<std::map<RunState, int64_t>> SqliteLedger::count_by_state() {
  std::lock_guard lock(mu_);
  std::map<RunState, int64_t> out;
  for (RunState st : kAllRunStates) out[st] = 0;
  Stmt s(db_, "SELECT state, COUNT(*) FROM runs GROUP BY state");
  if (!s.ok()) return s.error("prepare count");
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    if (auto st = parse_run_state(s.text(0))) out[*st] = s.integer(1);
  }
  if (rc != SQLITE_DONE) return s.error("count runs");
  return out;
}

}  // namespace scigate
