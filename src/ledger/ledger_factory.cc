#include "ledger/ledger_factory.h"

#include "ledger/sqlite_ledger.h"

namespace scigate {

namespace {

struct Opener {
  Result<std::unique_ptr<RunLedger>> operator()(const SqliteLedgerConfig& c) const {
    auto ledger = SqliteLedger::open(c.path);
    if (!ledger) return ledger.error();
    return std::unique_ptr<RunLedger>(std::move(ledger).value());
  }
};

}  // namespace

Result<std::unique_ptr<RunLedger>> open_ledger(const LedgerConfig& config) {
  return std::visit(Opener{}, config.backend);
}

}  // namespace scigate
