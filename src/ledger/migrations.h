// The ledger's schema as versioned migrations, one list for every SQL backend: the
// statements use only what SQLite and PostgreSQL both understand (BIGINT, TEXT, row
// values, partial indexes), except the byte type, written %BYTES% and replaced by each
// backend (SQLite BLOB, PostgreSQL BYTEA). A backend applies, in one transaction each,
// the migrations above the version recorded in schema_migrations, and refuses to open a
// ledger whose recorded version is newer than the last one here (a newer scigate wrote
// it). Add a migration at the end; never edit one that has shipped.
#pragma once

#include <string>

namespace scigate {

struct LedgerMigration {
  int version;
  const char* sql;  // one or more statements separated by ';'
};

inline constexpr const char* kSchemaMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_us BIGINT NOT NULL)";

inline constexpr LedgerMigration kLedgerMigrations[] = {
    // 1: the runs table as the first SQLite ledgers made it (IF NOT EXISTS: those
    // ledgers, which had no schema_migrations, pass through unchanged).
    {1, R"sql(
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
  created_us BIGINT NOT NULL,
  started_us BIGINT NOT NULL DEFAULT 0,
  ended_us BIGINT NOT NULL DEFAULT 0,
  idempotency_key TEXT,
  reason TEXT NOT NULL DEFAULT '',
  tasks_done BIGINT NOT NULL DEFAULT 0,
  tasks_total BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_user ON runs(username, created_us DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_by_user_workflow ON runs(username, workflow_id, created_us DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state, created_us);
CREATE UNIQUE INDEX IF NOT EXISTS runs_idempotency ON runs(username, idempotency_key)
  WHERE idempotency_key IS NOT NULL
)sql"},
    // 2: several instances on one ledger (run_ledger.h): claims, leases, cancel flags,
    // logs any instance can serve, settings the instances agree on.
    {2, R"sql(
ALTER TABLE runs ADD COLUMN engine_data TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_until_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_by_owner ON runs(owner, state) WHERE owner <> '';
CREATE TABLE run_logs (
  run_id TEXT NOT NULL,
  start_offset BIGINT NOT NULL,
  end_offset BIGINT NOT NULL,
  data %BYTES% NOT NULL,
  PRIMARY KEY (run_id, start_offset)
);
CREATE TABLE ledger_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)
)sql"},
};

// The highest version above.
inline constexpr int kLedgerSchemaVersion = 2;

}  // namespace scigate
