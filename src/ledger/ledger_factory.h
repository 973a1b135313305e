// Builds the configured RunLedger once at startup (the app and `scigate ledger sync`).
// The backend is the alternative of LedgerConfig::backend the config loader chose from
// the `ledger:` URL's scheme; a new backend is one more alternative and one more builder.
#pragma once

#include <memory>

#include "catalog/config.h"
#include "ledger/run_ledger.h"

namespace scigate {

// Opens (and creates or migrates) the ledger; not started (RunLedger::start).
Result<std::unique_ptr<RunLedger>> open_ledger(const LedgerConfig& config);

}  // namespace scigate
