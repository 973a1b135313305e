#include "ledger/ledger_factory.h"

#include "ledger/postgres_ledger.h"
#include "ledger/sqlite_ledger.h"

namespace scigate {

namespace {

struct Opener {
  Result<std::unique_ptr<RunLedger>> operator()(const SqliteLedgerConfig& c) const {
    auto ledger = SqliteLedger::open(c.path);
    if (!ledger) return ledger.error();
    return std::unique_ptr<RunLedger>(std::move(ledger).value());
  }
  Result<std::unique_ptr<RunLedger>> operator()(const PostgresLedgerConfig& c) const {
    PostgresLedgerOptions options;
    options.url = c.url;
    if (c.password) options.password = c.password->value();
    options.pool_size = c.pool_size;
    options.statement_timeout = c.statement_timeout;
    auto ledger = PostgresLedger::open(options);
    if (!ledger) return ledger.error();
    return std::unique_ptr<RunLedger>(std::move(ledger).value());
  }
};

}  // namespace

Result<std::unique_ptr<RunLedger>> open_ledger(const LedgerConfig& config) {
  return std::visit(Opener{}, config.backend);
}

}  // namespace scigate
