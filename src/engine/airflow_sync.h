// Imports into the ledger the DAG runs that were started directly in Airflow (not
// through scigate) but carry a `conf.username`, so that their owners see them in their
// run listings. Used by `scigate ledger sync --since DATE`.
#pragma once

#include "catalog/config.h"
#include "core/time_util.h"
#include "engine/airflow_client.h"
#include "ledger/run_ledger.h"

namespace scigate {

struct SyncReport {
  int seen = 0;      // DAG runs listed since the date
  int imported = 0;  // new in the ledger
  int known = 0;     // already in the ledger (scigate's own runs, earlier imports)
  int no_user = 0;   // no usable conf.username: nobody to show them to
  int unusable = 0;  // a run id or username scigate cannot use in its paths
};

// Pages through every DAG run (all DAGs) whose logical date / run_after is >= since.
Result<SyncReport> sync_ledger(const AirflowClient& client, const Config& config, RunLedger& ledger, SystemTime since);

}  // namespace scigate
