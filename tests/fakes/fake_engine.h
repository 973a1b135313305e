// FakeEngine: an in-memory WorkflowEngine for handler tests. Records triggers, lets a
// test set run states and make trigger fail. Like a remote engine (Airflow), it keeps its
// state apart from the ledger and honours the ownership rule of workflow_engine.h: what
// status() and cancel() learn is written to `ledger` by the engine, never by the API.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"

namespace scigate::testing {

class FakeEngine final : public WorkflowEngine {
 public:
  std::vector<WorkflowInfo> workflows;
  std::vector<TriggerRequest> triggered;
  std::map<std::string, RunStatus> statuses;  // by engine run id
  std::optional<Error> trigger_error;
  std::vector<std::string> canceled;
  std::map<std::string, std::string> log_texts;  // by run id; default "logs of {run id}"
  RunLedger* ledger = nullptr;                   // where this engine records lifecycle fields; required
  // A cancel that stops the run in the background (as the local engine does for a running
  // run): cancel() answers the run unchanged and records nothing yet.
  bool cancel_in_background = false;

  Result<std::vector<WorkflowInfo>> list_workflows() override { return workflows; }
  Result<WorkflowInfo> describe(const std::string& id) override {
    for (const auto& w : workflows) {
      if (w.id == id) return w;
    }
    return Error::not_found("no such workflow: " + id);
  }
  Result<std::string> trigger(const TriggerRequest& request) override {
    if (trigger_error) return *trigger_error;
    triggered.push_back(request);
    return "engine-" + request.run.run_id;
  }
  Result<RunStatus> status(const RunRecord& run) override {
    auto it = statuses.find(run.engine_run_id);
    if (it == statuses.end())
      return RunStatus{run.state, run.started_us, run.ended_us, run.tasks_done, run.tasks_total, run.reason};
    if (status_changed(run, it->second)) {
      if (auto st = ledger->update(with_status(run, it->second)); !st) return st.error();
    }
    return it->second;
  }
  Result<RunRecord> cancel(const RunRecord& run) override {
    if (is_terminal(run.state)) return Error::conflict("run already finished");
    canceled.push_back(run.run_id);
    if (cancel_in_background) return run;
    RunStatus ended{RunState::kCanceled, run.started_us,  1'700'000'000'000'000,
                    run.tasks_done,      run.tasks_total, "canceled by user"};
    statuses[run.engine_run_id] = ended;
    RunRecord after = with_status(run, ended);
    if (auto st = ledger->update(after); !st) return st.error();
    return after;
  }
  Result<std::shared_ptr<ByteSource>> logs(const RunRecord& run) override {
    auto it = log_texts.find(run.run_id);
    return string_source(it == log_texts.end() ? "logs of " + run.run_id : it->second);
  }
};

}  // namespace scigate::testing
