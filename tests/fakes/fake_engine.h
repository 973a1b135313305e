// FakeEngine: an in-memory WorkflowEngine for handler tests. Records triggers, lets a
// test set run states and make trigger fail.
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "engine/workflow_engine.h"

namespace scigate::testing {

class FakeEngine final : public WorkflowEngine {
 public:
  std::vector<WorkflowInfo> workflows;
  std::vector<TriggerRequest> triggered;
  std::map<std::string, RunStatus> statuses;  // by engine run id
  std::optional<Error> trigger_error;
  std::vector<std::string> canceled;
  std::map<std::string, std::string> log_texts;  // by run id; default "logs of {run id}"

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
    return it->second;
  }
  Status cancel(const RunRecord& run) override {
    if (is_terminal(run.state)) return Error::conflict("run already finished");
    canceled.push_back(run.run_id);
    return ok_status();
  }
  Result<std::shared_ptr<ByteSource>> logs(const RunRecord& run) override {
    auto it = log_texts.find(run.run_id);
    return string_source(it == log_texts.end() ? "logs of " + run.run_id : it->second);
  }
};

}  // namespace scigate::testing
