// The RunLedger contract (ledger/run_ledger.h), one suite run against every backend: a
// backend's test binary instantiates it with INSTANTIATE_TEST_SUITE_P(Name,
// RunLedgerContract, ::testing::Values(RunLedgerBackend{...})) and links
// run_ledger_contract.cc. SQLite: unit_ledger. PostgreSQL is one more instantiation, in
// the binary that starts its server.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "ledger/run_ledger.h"

namespace scigate::contract {

// A ledger with no runs, and what must stay alive while it is used (a folder, a server).
struct LedgerUnderTest {
  std::unique_ptr<RunLedger> ledger;
  std::shared_ptr<void> resources;
};

struct RunLedgerBackend {
  std::string name;  // a GoogleTest name: letters, digits, underscores
  std::function<LedgerUnderTest()> make;
};

// A queued run of `user` created at `created` (Unix µs), as the API would insert it.
inline RunRecord make_run(const std::string& id, const std::string& user, int64_t created,
                          const std::string& wf = "nebraska") {
  RunRecord r;
  r.run_id = id;
  r.workflow_id = wf;
  r.username = user;
  r.data_selection = "nebraska_images";
  r.output_bucket = "staging";
  r.output_prefix = user + "/" + id + "/";
  r.engine_run_id = id;
  r.created_us = created;
  return r;
}

inline void PrintTo(const RunLedgerBackend& b, std::ostream* os) { *os << b.name; }
inline std::string ledger_backend_name(const ::testing::TestParamInfo<RunLedgerBackend>& info) {
  return info.param.name;
}

class RunLedgerContract : public ::testing::TestWithParam<RunLedgerBackend> {
 protected:
  void SetUp() override {
    sut_ = GetParam().make();
    ASSERT_TRUE(sut_.ledger) << "backend " << GetParam().name << " could not be set up";
    sut_.ledger->start();
  }
  void TearDown() override {
    if (sut_.ledger) sut_.ledger->stop();
  }
  RunLedger& ledger() { return *sut_.ledger; }

  LedgerUnderTest sut_;
};

}  // namespace scigate::contract
