#include "ledger/postgres_ledger.h"

#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <tuple>
#include <variant>

#include "ledger/cursor.h"
#include "ledger/migrations.h"
#include "ledger/run_columns.h"

namespace scigate {

namespace {

constexpr const char* kColumns = kRunColumns;

// Advisory lock keys: the migrations (one bigint), a run's log (this namespace and a hash
// of the run id). "scigate" and "scig" in ASCII.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(32492643198431333)";
constexpr const char* kLogLockNamespace = "1935894887";

// The prepared statements, by name (their index).
enum StatementId : int {
  kInsert,
  kGet,
  kGetByKey,
  kPage,
  kPageWorkflow,
  kPageCursor,
  kPageWorkflowCursor,
  kUpdate,
  kExists,
  kInState,
  kCountStates,
  kAgreeInsert,
  kAgreeGet,
  kSetEngineData,
  kClaim,
  kHeartbeat,
  kRelease,
  kCancel,
  kExpire,
  kLogLock,
  kLogEnd,
  kLogInsert,
  kLogRead,
  kStatementCount
};

}  // namespace

const std::vector<PostgresLedger::Statement>& PostgresLedger::statements() {
  static const std::vector<Statement> named = [] {
    const std::string cols = kColumns;
    const std::string select = "SELECT " + cols + " FROM runs ";
    const std::string newest_first = " ORDER BY created_us DESC, run_id DESC LIMIT ";
    std::vector<std::string> s(kStatementCount);
    s[kInsert] = "INSERT INTO runs (" + cols +
                 ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) "
                 "ON CONFLICT (username, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING";
    s[kGet] = select + "WHERE run_id=$1";
    s[kGetByKey] = select + "WHERE username=$1 AND idempotency_key=$2";
    s[kPage] = select + "WHERE username=$1" + newest_first + "$2";
    s[kPageWorkflow] = select + "WHERE username=$1 AND workflow_id=$2" + newest_first + "$3";
    s[kPageCursor] = select + "WHERE username=$1 AND (created_us, run_id) < ($2, $3)" + newest_first + "$4";
    s[kPageWorkflowCursor] =
        select + "WHERE username=$1 AND workflow_id=$2 AND (created_us, run_id) < ($3, $4)" + newest_first + "$5";
    s[kUpdate] =
        "UPDATE runs SET state=$1, started_us=$2, ended_us=$3, reason=$4, tasks_done=$5, tasks_total=$6, "
        "engine_run_id=$7 WHERE run_id=$8 AND owner=$9";
    s[kExists] = "SELECT 1 FROM runs WHERE run_id=$1";
    s[kInState] = select + "WHERE state=$1 ORDER BY created_us, run_id";
    s[kCountStates] = "SELECT state, COUNT(*) FROM runs GROUP BY state";
    s[kAgreeInsert] = "INSERT INTO ledger_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    s[kAgreeGet] = "SELECT value FROM ledger_settings WHERE name=$1";
    s[kSetEngineData] = "UPDATE runs SET engine_data=$2 WHERE run_id=$1";
    // SKIP LOCKED: a claimer passes over the row another claimer is taking instead of
    // waiting for it; the row lock then makes the UPDATE the only one of that row.
    s[kClaim] =
        "UPDATE runs SET owner=$1, lease_until_us=$2 WHERE run_id = (SELECT run_id FROM runs WHERE state='queued' "
        "AND owner='' AND engine_data<>'' AND cancel_requested=0 ORDER BY created_us, run_id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) RETURNING " +
        cols;
    // owner<>'' repeated so that a generic plan (the value of $1 unknown) can still use
    // the partial index runs_by_owner.
    s[kHeartbeat] =
        "UPDATE runs SET lease_until_us=$2 WHERE owner=$1 AND owner<>'' AND state IN ('queued','running') "
        "RETURNING run_id, cancel_requested";
    s[kRelease] =
        "UPDATE runs SET owner='', lease_until_us=0 WHERE run_id=$1 AND owner=$2 AND owner<>'' AND state='queued'";
    // Nobody holds a queued run: it ends here. Else its owner stops it when its heartbeat
    // sees the flag.
    s[kCancel] =
        "UPDATE runs SET cancel_requested=1, "
        "state = CASE WHEN state='queued' AND owner='' THEN 'canceled' ELSE state END, "
        "ended_us = CASE WHEN state='queued' AND owner='' THEN $2 ELSE ended_us END, "
        "reason = CASE WHEN state='queued' AND owner='' THEN $3 ELSE reason END "
        "WHERE run_id=$1 AND state IN ('queued','running') RETURNING " +
        cols;
    // Concurrent expirers: the second waits for the first's row locks, then re-reads the
    // rows (owner now '') and leaves them: each run is ended once. A run whose cancel was
    // asked for ends canceled: what its user wanted, if not how (a claimed queued one
    // too, or claim_next, which skips flagged runs, would leave it queued for ever).
    s[kExpire] =
        "WITH requeued AS (UPDATE runs SET owner='', lease_until_us=0, "
        "state = CASE WHEN cancel_requested<>0 THEN 'canceled' ELSE state END, "
        "ended_us = CASE WHEN cancel_requested<>0 THEN $1 ELSE ended_us END, "
        "reason = CASE WHEN cancel_requested<>0 THEN '" +
        std::string(kCanceledBeforeStart) +
        "' ELSE reason END "
        "WHERE owner<>'' AND state='queued' AND lease_until_us < $1 RETURNING run_id) "
        "UPDATE runs SET state = CASE WHEN cancel_requested<>0 THEN 'canceled' ELSE 'failed' END, ended_us=$1, "
        "reason='instance ' || owner || ' stopped renewing its claim on the run (lease expired)', "
        "owner='', lease_until_us=0 "
        "WHERE owner<>'' AND state='running' AND lease_until_us < $1 RETURNING " +
        cols;
    s[kLogLock] = std::string("SELECT pg_advisory_xact_lock(") + kLogLockNamespace + ", hashtext($1))";
    s[kLogEnd] = "SELECT end_offset FROM run_logs WHERE run_id=$1 ORDER BY start_offset DESC LIMIT 1";
    s[kLogInsert] = "INSERT INTO run_logs (run_id, start_offset, end_offset, data) VALUES ($1, $2, $3, $4)";
    // One statement, one snapshot: the size and the chunks from the one holding $2 up to
    // (not including) $3.
    s[kLogRead] =
        "SELECT s.size, c.start_offset, c.data FROM (SELECT COALESCE((SELECT end_offset FROM run_logs "
        "WHERE run_id=$1 ORDER BY start_offset DESC LIMIT 1), 0) AS size) s "
        "LEFT JOIN LATERAL (SELECT start_offset, data FROM run_logs WHERE run_id=$1 AND start_offset < $3 "
        "AND start_offset >= COALESCE((SELECT start_offset FROM run_logs WHERE run_id=$1 AND start_offset <= $2 "
        "ORDER BY start_offset DESC LIMIT 1), 0)) c ON true ORDER BY c.start_offset";
    static const char* const kNames[kStatementCount] = {
        "insert",     "get",       "get_by_key", "page",         "page_workflow", "page_cursor", "page_workflow_cursor",
        "update",     "exists",    "in_state",   "count_states", "agree_insert",  "agree_get",   "set_engine_data",
        "claim",      "heartbeat", "release",    "cancel",       "expire",        "log_lock",    "log_end",
        "log_insert", "log_read"};
    std::vector<Statement> out;
    for (int i = 0; i < kStatementCount; ++i) out.push_back({kNames[i], s[i]});
    return out;
  }();
  return named;
}

namespace {

struct Bytes {
  std::string_view data;
};
using Arg = std::variant<std::string, int64_t, std::nullptr_t, Bytes>;

using PgResult = std::unique_ptr<PGresult, void (*)(PGresult*)>;

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Error unreachable(const std::string& detail) {
  return {ErrorCode::kUnavailable, "PostgreSQL ledger unreachable: " + detail, "ledger unreachable"};
}

// What a failed statement means for the caller: the server gone or overloaded is
// temporary (503), a unique key taken is a conflict, anything else a bug.
Error statement_error(PGconn* conn, const PGresult* res, const std::string& what) {
  std::string message = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string detail = what + ": " + message + (code.empty() ? "" : " (SQLSTATE " + code + ")");
  if (PQstatus(conn) != CONNECTION_OK || code.empty() || code.starts_with("08") || code.starts_with("57P")) {
    return unreachable(detail);
  }
  // Statement timeout, lock timeout, serialization failure, deadlock, too many
  // connections, out of resources: retrying later may work.
  if (code == "57014" || code == "55P03" || code == "40001" || code == "40P01" || code.starts_with("53")) {
    return {ErrorCode::kUnavailable, "PostgreSQL ledger: " + detail, "ledger busy, retry later"};
  }
  if (code == "23505") return {ErrorCode::kConflict, "PostgreSQL ledger: " + detail, "run already exists"};
  return Error::internal_error("PostgreSQL ledger: " + detail);
}

bool succeeded(const PGresult* r) {
  return r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
}

std::string text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

int64_t integer(const PGresult* r, int row, int col) {
  const char* p = PQgetvalue(r, row, col);
  int64_t v = 0;
  std::from_chars(p, p + PQgetlength(r, row, col), v);
  return v;
}

// An int8 of a binary result (network byte order).
int64_t binary_int8(const PGresult* r, int row, int col) {
  uint64_t v = 0;
  if (PQgetlength(r, row, col) == 8) std::memcpy(&v, PQgetvalue(r, row, col), 8);
  return static_cast<int64_t>(be64toh(v));
}

RunRecord read_run(const PGresult* r, int row) {
  return run_from_columns([&](int col) { return text(r, row, col); }, [&](int col) { return integer(r, row, col); });
}

std::vector<RunRecord> read_runs(const PGresult* r) {
  std::vector<RunRecord> out;
  out.reserve(PQntuples(r));
  for (int i = 0; i < PQntuples(r); ++i) out.push_back(read_run(r, i));
  return out;
}

bool readable(int fd) {
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

// How much longer than the server's statement_timeout a call waits for its answer.
constexpr std::chrono::milliseconds kDeadlineGrace{1000};

int64_t clamp_to_int64(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

}  // namespace

class PostgresLedger::Connection {
 public:
  explicit Connection(const PostgresLedgerOptions& options) : options_(options) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connected (again, when PostgreSQL closed the connection since its last use), and
  // with `prepare` its statements prepared.
  Status ready(bool prepare) {
    // An idle connection has nothing to read: something there is a server that went
    // away (it says so and closes the connection when it shuts down). Replaced here
    // rather than failing the caller's statement.
    if (conn_ && (PQstatus(conn_) != CONNECTION_OK || readable(PQsocket(conn_)))) close();
    if (!conn_) {
      if (auto st = connect(); !st) return st;
    }
    if (prepare && !prepared_) {
      for (const auto& [name, sql] : statements()) {
        Result<PgResult> res = PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr)
                                   ? finish("prepare " + name)
                                   : statement_error(conn_, nullptr, "prepare " + name);
        if (!res) {
          close();
          return res.error();
        }
      }
      prepared_ = true;
    }
    return ok_status();
  }

  Result<PgResult> run(StatementId id, const std::vector<Arg>& args, bool binary_result = false) {
    std::vector<const char*> values(args.size());
    std::vector<int> lengths(args.size(), 0);
    std::vector<int> formats(args.size(), 0);
    std::vector<std::string> numbers(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      if (const auto* s = std::get_if<std::string>(&args[i])) {
        values[i] = s->c_str();
      } else if (const auto* n = std::get_if<int64_t>(&args[i])) {
        numbers[i] = std::to_string(*n);
        values[i] = numbers[i].c_str();
      } else if (const auto* b = std::get_if<Bytes>(&args[i])) {
        values[i] = b->data.data();
        lengths[i] = static_cast<int>(b->data.size());
        formats[i] = 1;
      } else {
        values[i] = nullptr;
      }
    }
    const std::string& name = statements()[id].name;
    if (!conn_) return unreachable(name + ": connection lost");
    if (!PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(args.size()), values.data(), lengths.data(),
                             formats.data(), binary_result ? 1 : 0)) {
      return statement_error(conn_, nullptr, name);
    }
    return finish(name);
  }

  // Statements without parameters (BEGIN, COMMIT, DDL; several at once).
  Status simple(const std::string& sql, const std::string& what) {
    auto res = query(sql, what);
    if (!res) return res.error();
    return ok_status();
  }
  Result<PgResult> query(const std::string& sql, const std::string& what) {
    if (!conn_) return unreachable(what + ": connection lost");
    if (!PQsendQuery(conn_, sql.c_str())) return statement_error(conn_, nullptr, what);
    return finish(what);
  }

  // fn() inside BEGIN ... COMMIT; ROLLBACK when it fails.
  template <typename Fn>
  auto transaction(Fn fn) -> decltype(fn()) {
    if (auto st = simple("BEGIN", "begin"); !st) return st.error();
    auto out = fn();
    if (!out) {
      (void)simple("ROLLBACK", "rollback");
      return out;
    }
    if (auto st = simple("COMMIT", "commit"); !st) return st.error();
    return out;
  }

 private:
  Status connect() {
    std::string connect_timeout = std::to_string(std::max<int64_t>(2, (options_.connect_timeout.count() + 999) / 1000));
    std::string statement_ms = std::to_string(options_.statement_timeout.count());
    // Ours first: what the URL's parameters say overrides them (expand_dbname), then the
    // password, kept out of the URL.
    std::vector<const char*> keys{"connect_timeout",  "keepalives",       "keepalives_idle",  "keepalives_interval",
                                  "keepalives_count", "tcp_user_timeout", "application_name", "dbname"};
    std::vector<const char*> values{connect_timeout.c_str(), "1", "5", "2", "3", statement_ms.c_str(), "scigate",
                                    options_.url.c_str()};
    if (!options_.password.empty()) {
      keys.push_back("password");
      values.push_back(options_.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ ? trimmed(PQerrorMessage(conn_)) : "out of memory";
      close();
      return unreachable("cannot connect: " + message);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // A server-side bound on every statement, lock waits included.
    if (auto st = simple("SET statement_timeout = " + statement_ms, "set statement_timeout"); !st) {
      close();
      return st;
    }
    return ok_status();
  }

  // The result of the statement sent, waited for until a deadline of our own: the
  // server's statement_timeout cannot help when the server itself is stuck (and TCP
  // keepalives are answered by its kernel). Past the deadline the connection is dropped.
  Result<PgResult> finish(const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + options_.statement_timeout + kDeadlineGrace;
    PgResult kept(nullptr, PQclear);  // the first error, else the last result
    for (;;) {
      while (!PQisBusy(conn_)) {
        PgResult next(PQgetResult(conn_), PQclear);
        if (!next) {
          if (!succeeded(kept.get())) return statement_error(conn_, kept.get(), what);
          return kept;
        }
        if (!kept || succeeded(kept.get())) kept = std::move(next);
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        close();
        return unreachable(what + ": no answer within " +
                           std::to_string((options_.statement_timeout + kDeadlineGrace).count()) + " ms");
      }
      pollfd p{PQsocket(conn_), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
        close();
        return unreachable(what + ": poll failed");
      }
      if (!PQconsumeInput(conn_)) return statement_error(conn_, nullptr, what);
    }
  }

  void close() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    prepared_ = false;
  }

  const PostgresLedgerOptions& options_;
  PGconn* conn_ = nullptr;
  bool prepared_ = false;
};

class PostgresLedger::Lease {
 public:
  Lease(PostgresLedger* ledger, Connection* c) : ledger_(ledger), c_(c) {}
  Lease(Lease&& o) noexcept : ledger_(o.ledger_), c_(std::exchange(o.c_, nullptr)) {}
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (c_) ledger_->give_back(c_);
  }
  Connection* operator->() { return c_; }
  Connection& operator*() { return *c_; }

 private:
  PostgresLedger* ledger_;
  Connection* c_;
};

PostgresLedger::PostgresLedger(PostgresLedgerOptions options) : options_(std::move(options)) {
  options_.pool_size = std::max(1, options_.pool_size);
  for (int i = 0; i < options_.pool_size; ++i) {
    connections_.push_back(std::make_unique<Connection>(options_));
    idle_.push_back(connections_.back().get());
  }
}

PostgresLedger::~PostgresLedger() = default;

namespace {

std::string with_byte_type(const char* sql) {
  std::string s = sql;
  for (size_t at; (at = s.find("%BYTES%")) != std::string::npos;) s.replace(at, 7, "BYTEA");
  return s;
}

}  // namespace

Result<std::unique_ptr<PostgresLedger>> PostgresLedger::open(const PostgresLedgerOptions& options) {
  std::unique_ptr<PostgresLedger> ledger(new PostgresLedger(options));
  auto lease = ledger->acquire(/*prepare=*/false);
  if (!lease) return lease.error();
  // One migration per transaction, each under the lock: instances starting together
  // take turns, and each sees the version the previous one recorded.
  for (;;) {
    int applied = 0;
    auto st = (*lease)->transaction([&]() -> Status {
      if (auto s = (*lease)->simple(kMigrationLock, "lock migrations"); !s) return s;
      if (auto s = (*lease)->simple(kSchemaMigrationsTable, "create schema_migrations"); !s) return s;
      auto version = (*lease)->query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "read version");
      if (!version) return version.error();
      int64_t current = integer(version->get(), 0, 0);
      if (current > kLedgerSchemaVersion) {
        return Error::internal_error("the PostgreSQL ledger's schema is at version " + std::to_string(current) +
                                     ", newer than this scigate knows (" + std::to_string(kLedgerSchemaVersion) +
                                     "): a newer scigate migrated it; run that version or newer");
      }
      for (const auto& m : kLedgerMigrations) {
        if (m.version <= current) continue;
        if (auto s = (*lease)->simple(with_byte_type(m.sql), "migration " + std::to_string(m.version)); !s) return s;
        auto now_us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        if (auto s = (*lease)->simple("INSERT INTO schema_migrations (version, applied_us) VALUES (" +
                                          std::to_string(m.version) + ", " + std::to_string(now_us) + ")",
                                      "record migration");
            !s)
          return s;
        applied = m.version;
        break;
      }
      return ok_status();
    });
    if (!st) return st.error();
    if (applied == 0) break;
    spdlog::info("ledger: PostgreSQL schema migrated to version {}", applied);
  }
  return ledger;
}

Result<PostgresLedger::Lease> PostgresLedger::acquire(bool prepare) {
  Connection* c = nullptr;
  {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, options_.pool_wait, [&] { return !idle_.empty(); })) {
      return Error{ErrorCode::kUnavailable,
                   "PostgreSQL ledger: all " + std::to_string(connections_.size()) + " connections busy for " +
                       std::to_string(options_.pool_wait.count()) + " ms",
                   "ledger busy, retry later"};
    }
    c = idle_.back();
    idle_.pop_back();
  }
  Lease lease(this, c);
  // Logged when it becomes unreachable and when it is back, not on every call between.
  if (auto st = c->ready(prepare); !st) {
    if (st.error().code != ErrorCode::kUnavailable || reachable_.exchange(false)) {
      spdlog::warn("{}", st.error().internal);
    }
    return st.error();
  }
  if (!reachable_.load(std::memory_order_relaxed) && !reachable_.exchange(true)) {
    spdlog::info("ledger: PostgreSQL reachable again");
  }
  return lease;
}

void PostgresLedger::give_back(Connection* c) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(c);
  }
  freed_.notify_one();
}

Result<InsertOutcome> PostgresLedger::insert(const RunRecord& r) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kInsert, run_column_values<Arg>(r));
  if (!res) return res.error();
  if (std::string_view(PQcmdTuples(res->get())) == "1") return InsertOutcome{r, true};
  auto existing = (*c)->run(kGetByKey, {r.username, r.idempotency_key});
  if (!existing) return existing.error();
  if (PQntuples(existing->get()) == 0) return Error::internal_error("insert ignored but no idempotent twin found");
  return InsertOutcome{read_run(existing->get(), 0), false};
}

Result<RunRecord> PostgresLedger::get(const std::string& run_id) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kGet, {run_id});
  if (!res) return res.error();
  if (PQntuples(res->get()) == 0) return Error::not_found("no such run");
  return read_run(res->get(), 0);
}

Result<RunPage> PostgresLedger::list_for_user(const RunPageRequest& req) {
  std::optional<RunCursor> cursor;
  if (!req.cursor.empty()) {
    cursor = parse_run_cursor(req.cursor);
    if (!cursor) return Error::bad_request("invalid cursor");
  }
  const int64_t limit = int64_t{std::max(req.limit, 0)} + 1;
  auto c = acquire();
  if (!c) return c.error();
  const bool by_workflow = !req.workflow_id.empty();
  Result<PgResult> res = Error::internal_error("unreachable");
  if (cursor) {
    res = by_workflow ? (*c)->run(kPageWorkflowCursor,
                                  {req.username, req.workflow_id, cursor->created_us, cursor->run_id, limit})
                      : (*c)->run(kPageCursor, {req.username, cursor->created_us, cursor->run_id, limit});
  } else {
    res = by_workflow ? (*c)->run(kPageWorkflow, {req.username, req.workflow_id, limit})
                      : (*c)->run(kPage, {req.username, limit});
  }
  if (!res) return res.error();
  return make_run_page(read_runs(res->get()), req.limit);
}

Status PostgresLedger::update(const RunRecord& r) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kUpdate, {std::string(to_string(r.state)), r.started_us, r.ended_us, r.reason,
                                 int64_t{r.tasks_done}, int64_t{r.tasks_total}, r.engine_run_id, r.run_id, r.owner});
  if (!res) return res.error();
  if (std::string_view(PQcmdTuples(res->get())) == "1") return ok_status();
  auto exists = (*c)->run(kExists, {r.run_id});
  if (!exists) return exists.error();
  if (PQntuples(exists->get()) == 0) return Error::not_found("no such run");
  return Error::conflict("run " + r.run_id + " is no longer owned by '" + r.owner + "'");
}

Result<std::vector<RunRecord>> PostgresLedger::list_in_state(RunState state) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kInState, {std::string(to_string(state))});
  if (!res) return res.error();
  return read_runs(res->get());
}

Result<std::map<RunState, int64_t>> PostgresLedger::count_by_state() {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kCountStates, {});
  if (!res) return res.error();
  std::map<RunState, int64_t> out;
  for (RunState st : kAllRunStates) out[st] = 0;
  for (int i = 0; i < PQntuples(res->get()); ++i) {
    if (auto st = parse_run_state(text(res->get(), i, 0))) out[*st] = integer(res->get(), i, 1);
  }
  return out;
}

Status PostgresLedger::agree(const std::string& name, const std::string& value) {
  auto c = acquire();
  if (!c) return c.error();
  // Two statements: the read needs a snapshot taken after a concurrent first writer
  // committed (the insert waited for it).
  if (auto res = (*c)->run(kAgreeInsert, {name, value}); !res) return res.error();
  auto res = (*c)->run(kAgreeGet, {name});
  if (!res) return res.error();
  if (PQntuples(res->get()) == 0) return Error::internal_error("ledger setting " + name + " vanished");
  if (text(res->get(), 0, 0) != value) {
    return Error::conflict("ledger setting '" + name + "' differs from what another instance stored");
  }
  return ok_status();
}

Status PostgresLedger::set_engine_data(const std::string& run_id, const std::string& data) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kSetEngineData, {run_id, data});
  if (!res) return res.error();
  if (std::string_view(PQcmdTuples(res->get())) != "1") return Error::not_found("no such run");
  return ok_status();
}

Result<std::optional<RunRecord>> PostgresLedger::claim_next(const std::string& owner, int64_t lease_until_us) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kClaim, {owner, lease_until_us});
  if (!res) return res.error();
  if (PQntuples(res->get()) == 0) return std::optional<RunRecord>();
  return std::optional<RunRecord>(read_run(res->get(), 0));
}

Result<std::map<std::string, bool>> PostgresLedger::heartbeat(const std::string& owner, int64_t lease_until_us) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kHeartbeat, {owner, lease_until_us});
  if (!res) return res.error();
  std::map<std::string, bool> held;
  for (int i = 0; i < PQntuples(res->get()); ++i) held[text(res->get(), i, 0)] = integer(res->get(), i, 1) != 0;
  return held;
}

Status PostgresLedger::release(const std::string& run_id, const std::string& owner) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kRelease, {run_id, owner});
  if (!res) return res.error();
  return ok_status();
}

Result<RunRecord> PostgresLedger::request_cancel(const std::string& run_id, int64_t now_us, const std::string& reason) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kCancel, {run_id, now_us, reason});
  if (!res) return res.error();
  if (PQntuples(res->get()) == 1) return read_run(res->get(), 0);
  auto exists = (*c)->run(kExists, {run_id});
  if (!exists) return exists.error();
  if (PQntuples(exists->get()) == 0) return Error::not_found("no such run");
  return Error::conflict("run " + run_id + " has already finished");
}

Result<std::vector<RunRecord>> PostgresLedger::expire_leases(int64_t now_us) {
  auto c = acquire();
  if (!c) return c.error();
  auto res = (*c)->run(kExpire, {now_us});
  if (!res) return res.error();
  auto failed = read_runs(res->get());
  std::sort(failed.begin(), failed.end(), [](const RunRecord& a, const RunRecord& b) {
    return std::tie(a.created_us, a.run_id) < std::tie(b.created_us, b.run_id);
  });
  return failed;
}

Status PostgresLedger::append_log(const std::string& run_id, uint64_t offset, std::string_view bytes) {
  if (bytes.empty()) return ok_status();
  if (offset > uint64_t{std::numeric_limits<int64_t>::max()} - bytes.size()) {
    return Error::bad_request("log offset out of range");
  }
  auto c = acquire();
  if (!c) return c.error();
  return (*c)->transaction([&]() -> Status {
    // Appenders of one run take turns (an owner's retry racing its first attempt).
    if (auto res = (*c)->run(kLogLock, {run_id}); !res) return res.error();
    auto end = (*c)->run(kLogEnd, {run_id});
    if (!end) return end.error();
    uint64_t size = PQntuples(end->get()) ? static_cast<uint64_t>(integer(end->get(), 0, 0)) : 0;
    if (offset > size) {
      return Error::bad_request("log append at " + std::to_string(offset) + " leaves a gap (the ledger holds " +
                                std::to_string(size) + " bytes)");
    }
    if (offset + bytes.size() <= size) return ok_status();  // a retried append
    std::string_view fresh = bytes.substr(size - offset);
    auto res = (*c)->run(kLogInsert,
                         {run_id, static_cast<int64_t>(size), static_cast<int64_t>(size + fresh.size()), Bytes{fresh}});
    if (!res) return res.error();
    return ok_status();
  });
}

Result<LedgerLog> PostgresLedger::read_log(const std::string& run_id, uint64_t offset, size_t max) {
  auto c = acquire();
  if (!c) return c.error();
  const int64_t from = clamp_to_int64(offset);
  const int64_t to = from + clamp_to_int64(std::min<uint64_t>(max, std::numeric_limits<int64_t>::max() - from));
  auto res = (*c)->run(kLogRead, {run_id, from, to}, /*binary_result=*/true);
  if (!res) return res.error();
  const PGresult* r = res->get();
  LedgerLog out;
  if (PQntuples(r) == 0) return out;
  out.size = static_cast<uint64_t>(binary_int8(r, 0, 0));
  for (int i = 0; i < PQntuples(r) && out.bytes.size() < max; ++i) {
    if (PQgetisnull(r, i, 1)) continue;
    uint64_t start = static_cast<uint64_t>(binary_int8(r, i, 1));
    std::string_view data(PQgetvalue(r, i, 2), static_cast<size_t>(PQgetlength(r, i, 2)));
    uint64_t skip = offset > start ? offset - start : 0;
    if (skip >= data.size()) continue;
    data.remove_prefix(skip);
    out.bytes.append(data.substr(0, max - out.bytes.size()));
  }
  return out;
}

}  // namespace scigate
