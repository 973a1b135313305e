// Keyset pagination of a user's runs, the same for every backend: a page is the runs
// before the cursor in (created_us DESC, run_id DESC) order, and the cursor of the next
// page is "<created_us>_<run_id>" of the last run of this one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/run_ledger.h"

namespace scigate {

struct RunCursor {
  int64_t created_us = 0;
  std::string run_id;
};

// nullopt for a malformed cursor (it comes from the caller: the backend answers kBadRequest).
std::optional<RunCursor> parse_run_cursor(const std::string& cursor);

// A page from the rows a backend read with LIMIT limit+1: the extra row only tells that
// there is a next page.
RunPage make_run_page(std::vector<RunRecord> rows, int limit);

}  // namespace scigate
