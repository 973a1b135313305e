#include "ledger/sqlite_ledger.h"

#include <sqlite3.h>

#include <chrono>
#include <variant>

#include "core/time_util.h"
#include "ledger/cursor.h"
#include "ledger/migrations.h"
#include "ledger/run_columns.h"

namespace scigate {

namespace {

constexpr const char* kColumns = kRunColumns;

// Bytes bound as a BLOB (log chunks), not as text.
struct Blob {
  std::string_view bytes;
};
using Arg = std::variant<std::string, int64_t, std::nullptr_t, Blob>;

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
      } else if (auto* b = std::get_if<Blob>(&args[i])) {
        sqlite3_bind_blob64(stmt_, idx, b->bytes.data(), b->bytes.size(), SQLITE_TRANSIENT);
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
  std::string blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  Error error(const std::string& what) const { return Error::internal_error(what + ": " + sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

RunRecord read_row(const Stmt& s) {
  return run_from_columns([&](int col) { return s.text(col); }, [&](int col) { return s.integer(col); });
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

Status exec_script(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return ok_status();
  std::string msg = err ? err : "unknown";
  sqlite3_free(err);
  return Error::internal_error(msg);
}

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed. IMMEDIATE takes the write lock
// at once, so two processes on one file never both read-then-write (busy_timeout waits).
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db), status_(exec_script(db, "BEGIN IMMEDIATE")) {}
  ~Transaction() {
    if (status_ && !done_) (void)exec_script(db_, "ROLLBACK");
  }
  const Status& begun() const { return status_; }
  Status commit() {
    done_ = true;
    return exec_script(db_, "COMMIT");
  }

 private:
  sqlite3* db_;
  Status status_;
  bool done_ = false;
};

std::string unfinished_states() {
  return std::string("('") + to_string(RunState::kQueued) + "','" + to_string(RunState::kRunning) + "')";
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
  auto st = exec_script(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
  if (st) st = ledger->migrate();
  if (!st) return Error::internal_error("cannot set up ledger " + file.string() + ": " + st.error().internal);
  return ledger;
}

SqliteLedger::~SqliteLedger() { sqlite3_close(db_); }

// Applies the migrations above the recorded version, each with its version in one
// transaction (migrations.h).
Status SqliteLedger::migrate() {
  Transaction txn(db_);
  if (!txn.begun()) return txn.begun();
  if (auto st = exec_script(db_, kSchemaMigrationsTable); !st) return st;
  Stmt s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!s.ok() || s.step() != SQLITE_ROW) return s.error("read schema version");
  int64_t version = s.integer(0);
  if (version > kLedgerSchemaVersion) {
    return Error::internal_error("its schema version " + std::to_string(version) + " is newer than this scigate's (" +
                                 std::to_string(kLedgerSchemaVersion) + "): a newer scigate wrote it; upgrade");
  }
  for (const auto& m : kLedgerMigrations) {
    if (m.version <= version) continue;
    std::string sql = m.sql;
    for (size_t at; (at = sql.find("%BYTES%")) != std::string::npos;) sql.replace(at, 7, "BLOB");
    if (auto st = exec_script(db_, sql); !st) {
      return Error::internal_error("migration " + std::to_string(m.version) + ": " + st.error().internal);
    }
    auto st = run_exec(db_, "INSERT INTO schema_migrations (version, applied_us) VALUES (?, ?)",
                       {int64_t{m.version}, to_unix_micros(std::chrono::system_clock::now())});
    if (!st) return st;
  }
  return txn.commit();
}

Result<InsertOutcome> SqliteLedger::insert(const RunRecord& r) {
  std::lock_guard lock(mu_);
  std::string sql = std::string("INSERT INTO runs (") + kColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (username, idempotency_key) "
                    "WHERE idempotency_key IS NOT NULL DO NOTHING";
  Stmt s(db_, sql);
  if (!s.ok()) return s.error("prepare insert");
  s.bind(run_column_values<Arg>(r));
  if (s.step() != SQLITE_DONE) {
    if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Error::conflict("a run " + r.run_id + " exists already");
    }
    return s.error("insert run");
  }
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
  return get_locked(run_id);
}

Result<RunRecord> SqliteLedger::get_locked(const std::string& run_id) {
  auto rows = run_query(db_, std::string("SELECT ") + kColumns + " FROM runs WHERE run_id=?", {run_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Error::not_found("no such run");
  return rows->front();
}

Result<RunPage> SqliteLedger::list_for_user(const RunPageRequest& req) {
  std::optional<RunCursor> cursor;
  if (!req.cursor.empty() && !(cursor = parse_run_cursor(req.cursor))) return Error::bad_request("invalid cursor");
  std::string sql = std::string("SELECT ") + kColumns + " FROM runs WHERE username=?";
  std::vector<Arg> args{req.username};
  if (!req.workflow_id.empty()) {
    sql += " AND workflow_id=?";
    args.emplace_back(req.workflow_id);
  }
  if (cursor) {
    sql += " AND (created_us, run_id) < (?, ?)";
    args.emplace_back(cursor->created_us);
    args.emplace_back(cursor->run_id);
  }
  sql += " ORDER BY created_us DESC, run_id DESC LIMIT ?";
  args.emplace_back(int64_t{req.limit + 1});
  std::lock_guard lock(mu_);
  auto rows = run_query(db_, sql, args);
  if (!rows) return rows.error();
  return make_run_page(std::move(rows).value(), req.limit);
}

Status SqliteLedger::update(const RunRecord& r) {
  std::lock_guard lock(mu_);
  auto st = run_exec(db_,
                     "UPDATE runs SET state=?, started_us=?, ended_us=?, reason=?, tasks_done=?, tasks_total=?, "
                     "engine_run_id=? WHERE run_id=? AND owner=?",
                     {std::string(to_string(r.state)), r.started_us, r.ended_us, r.reason, int64_t{r.tasks_done},
                      int64_t{r.tasks_total}, r.engine_run_id, r.run_id, r.owner});
  if (!st) return st;
  if (sqlite3_changes(db_) == 1) return ok_status();
  auto current = get_locked(r.run_id);
  if (!current) return current.error();
  return Error::conflict("run " + r.run_id + " is no longer held by '" + r.owner + "'");
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

Status SqliteLedger::agree(const std::string& name, const std::string& value) {
  std::lock_guard lock(mu_);
  auto st = run_exec(db_, "INSERT INTO ledger_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                     {name, value});
  if (!st) return st;
  Stmt s(db_, "SELECT value FROM ledger_settings WHERE name=?");
  if (!s.ok()) return s.error("prepare setting");
  s.bind({name});
  if (s.step() != SQLITE_ROW) return s.error("read setting");
  if (s.text(0) != value) return Error::conflict("the ledger holds another " + name);
  return ok_status();
}

Status SqliteLedger::set_engine_data(const std::string& run_id, const std::string& data) {
  std::lock_guard lock(mu_);
  auto st = run_exec(db_, "UPDATE runs SET engine_data=? WHERE run_id=?", {data, run_id});
  if (!st) return st;
  if (sqlite3_changes(db_) != 1) return Error::not_found("no such run");
  return ok_status();
}

Result<std::optional<RunRecord>> SqliteLedger::claim_next(const std::string& owner, int64_t lease_until_us) {
  std::lock_guard lock(mu_);
  // One statement: SQLite holds the write lock across its subquery, so two claimers (threads
  // or processes) never pick the same run.
  auto rows = run_query(db_,
                        std::string("UPDATE runs SET owner=?, lease_until_us=? WHERE run_id = (SELECT run_id FROM runs "
                                    "WHERE state=? AND owner='' AND engine_data<>'' AND cancel_requested=0 "
                                    "ORDER BY created_us, run_id LIMIT 1) RETURNING ") +
                            kColumns,
                        {owner, lease_until_us, std::string(to_string(RunState::kQueued))});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(rows->front());
}

Result<std::map<std::string, bool>> SqliteLedger::heartbeat(const std::string& owner, int64_t lease_until_us) {
  std::lock_guard lock(mu_);
  auto rows = run_query(db_,
                        "UPDATE runs SET lease_until_us=? WHERE owner=? AND owner<>'' AND state IN " +
                            unfinished_states() + " RETURNING " + kColumns,
                        {lease_until_us, owner});
  if (!rows) return rows.error();
  std::map<std::string, bool> held;
  for (const auto& r : *rows) held[r.run_id] = r.cancel_requested;
  return held;
}

Status SqliteLedger::release(const std::string& run_id, const std::string& owner) {
  std::lock_guard lock(mu_);
  return run_exec(db_, "UPDATE runs SET owner='', lease_until_us=0 WHERE run_id=? AND owner=? AND state=?",
                  {run_id, owner, std::string(to_string(RunState::kQueued))});
}

Result<RunRecord> SqliteLedger::request_cancel(const std::string& run_id, int64_t now_us, const std::string& reason) {
  std::lock_guard lock(mu_);
  Transaction txn(db_);
  if (!txn.begun()) return txn.begun().error();
  // Nobody holds it: it ends here. Else its owner stops it when its heartbeat sees the flag.
  auto rows = run_query(
      db_,
      std::string("UPDATE runs SET state=?, reason=?, ended_us=?, cancel_requested=1 WHERE run_id=? "
                  "AND state=? AND owner='' RETURNING ") +
          kColumns,
      {std::string(to_string(RunState::kCanceled)), reason, now_us, run_id, std::string(to_string(RunState::kQueued))});
  if (!rows) return rows.error();
  if (rows->empty()) {
    rows = run_query(db_,
                     std::string("UPDATE runs SET cancel_requested=1 WHERE run_id=? AND state IN ") +
                         unfinished_states() + " RETURNING " + kColumns,
                     {run_id});
    if (!rows) return rows.error();
  }
  if (rows->empty()) {
    auto current = get_locked(run_id);
    if (!current) return current.error();
    return Error::conflict("run already finished: " + std::string(to_string(current->state)));
  }
  if (auto st = txn.commit(); !st) return st.error();
  return rows->front();
}

Result<std::vector<RunRecord>> SqliteLedger::expire_leases(int64_t now_us) {
  std::lock_guard lock(mu_);
  Transaction txn(db_);
  if (!txn.begun()) return txn.begun().error();
  // A run whose cancel was asked for ends canceled: what its user wanted, if not how.
  auto failed = run_query(
      db_,
      std::string("UPDATE runs SET state = CASE WHEN cancel_requested<>0 THEN ? ELSE ? END, ended_us=?, "
                  "reason = 'instance ' || owner || ' stopped renewing its claim on the run (lease expired)', "
                  "owner='', lease_until_us=0 WHERE state=? AND owner<>'' AND lease_until_us<? RETURNING ") +
          kColumns,
      {std::string(to_string(RunState::kCanceled)), std::string(to_string(RunState::kFailed)), now_us,
       std::string(to_string(RunState::kRunning)), now_us});
  if (!failed) return failed.error();
  auto st = run_exec(db_,
                     "UPDATE runs SET owner='', lease_until_us=0, state = CASE WHEN cancel_requested<>0 THEN ? ELSE "
                     "state END, ended_us = CASE WHEN cancel_requested<>0 THEN ? ELSE ended_us END, reason = CASE "
                     "WHEN cancel_requested<>0 THEN ? ELSE reason END WHERE state=? AND owner<>'' AND lease_until_us<?",
                     {std::string(to_string(RunState::kCanceled)), now_us, std::string(kCanceledBeforeStart),
                      std::string(to_string(RunState::kQueued)), now_us});
  if (!st) return st.error();
  if (auto c = txn.commit(); !c) return c.error();
  return failed;
}

Status SqliteLedger::append_log(const std::string& run_id, uint64_t offset, std::string_view bytes) {
  std::lock_guard lock(mu_);
  Transaction txn(db_);
  if (!txn.begun()) return txn.begun();
  Stmt s(db_, "SELECT COALESCE(MAX(end_offset), 0) FROM run_logs WHERE run_id=?");
  if (!s.ok()) return s.error("prepare log end");
  s.bind({run_id});
  if (s.step() != SQLITE_ROW) return s.error("read log end");
  auto held = static_cast<uint64_t>(s.integer(0));
  if (offset > held) return Error::bad_request("log append at " + std::to_string(offset) + " leaves a gap");
  if (offset + bytes.size() <= held) return ok_status();  // a retried append
  bytes.remove_prefix(held - offset);
  auto st = run_exec(db_, "INSERT INTO run_logs (run_id, start_offset, end_offset, data) VALUES (?, ?, ?, ?)",
                     {run_id, static_cast<int64_t>(held), static_cast<int64_t>(held + bytes.size()), Blob{bytes}});
  if (!st) return st;
  return txn.commit();
}

Result<LedgerLog> SqliteLedger::read_log(const std::string& run_id, uint64_t offset, size_t max) {
  std::lock_guard lock(mu_);
  LedgerLog out;
  Stmt size(db_, "SELECT COALESCE(MAX(end_offset), 0) FROM run_logs WHERE run_id=?");
  if (!size.ok()) return size.error("prepare log size");
  size.bind({run_id});
  if (size.step() != SQLITE_ROW) return size.error("read log size");
  out.size = static_cast<uint64_t>(size.integer(0));
  Stmt s(db_, "SELECT start_offset, data FROM run_logs WHERE run_id=? AND end_offset>? ORDER BY start_offset");
  if (!s.ok()) return s.error("prepare log read");
  s.bind({run_id, static_cast<int64_t>(offset)});
  int rc;
  while (out.bytes.size() < max && (rc = s.step()) == SQLITE_ROW) {
    auto start = static_cast<uint64_t>(s.integer(0));
    std::string data = s.blob(1);
    size_t skip = offset > start ? offset - start : 0;
    out.bytes.append(data, skip, max - out.bytes.size());
  }
  return out;
}

}  // namespace scigate
