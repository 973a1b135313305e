// AirflowEngine: workflows are Airflow DAGs (Airflow 2 API v1, Airflow 3 API v2, MWAA).
//
// - Workflows: the configured workflow ids (those named by collections) that exist as
//   DAGs, read from the DAG list (all pages) and each DAG's details (params → JSON
//   Schema). Kept in memory and refreshed in the background every engine.dag_cache_ttl,
//   so listing and describing cost no Airflow call; details are re-read only when a DAG
//   was re-parsed. Paused DAGs are hidden unless engine.show_paused.
// - Trigger: POST dagRuns with scigate's own dag_run_id, so a retried trigger that
//   Airflow already took answers 409 and counts as success.
// - Status: one GET of the DAG run plus its task instances; a page of runs costs one
//   batch listing (POST /dags/~/dagRuns/list over a time window). A run seen finishing in
//   a listing is recorded with unknown progress, read once when it is opened.
// - Cancel: PATCH state=failed, recorded in the ledger as canceled (the ledger, shared by
//   every instance, is what turns "failed" into "canceled").
//
// Thread-safe. list_workflows()/describe() never block (they read the cached catalog).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "catalog/config.h"
#include "credentials/credentials_provider.h"
#include "engine/airflow_client.h"
#include "engine/airflow_mapping.h"
#include "engine/workflow_engine.h"
#include "ledger/run_ledger.h"

namespace scigate {

class AirflowEngine final : public WorkflowEngine {
 public:
  // `aws` (may be null) is started and stopped with the engine when it rotates.
  AirflowEngine(const Config& config, RunLedger& ledger, std::shared_ptr<AirflowClient> client,
                std::shared_ptr<CredentialsProvider> aws);
  ~AirflowEngine() override;

  Result<std::vector<WorkflowInfo>> list_workflows() override;
  Result<WorkflowInfo> describe(const std::string& workflow_id) override;
  Result<std::string> trigger(const TriggerRequest& request) override;
  Result<RunStatus> status(const RunRecord& run) override;
  Result<std::map<std::string, RunStatus>> statuses(const std::vector<RunRecord>& runs) override;
  Status cancel(const RunRecord& run) override;
  Result<std::shared_ptr<ByteSource>> logs(const RunRecord& run) override;
  // The followed log holds only finished tasks, in the order they ended: a running task's
  // log (and its state in the header) still changes, which an append-only text cannot show.
  Result<LogSlice> read_log(const RunRecord& run, uint64_t offset, size_t max) override;
  // Each poll costs Airflow two calls (the DAG run, its task instances); logs are read
  // only after progress changed, since only a finished task adds to the followed log.
  FollowPolicy follow_policy() const override { return {std::chrono::seconds(5), false}; }
  // Loads the catalog in the background at once, then every dag_cache_ttl (every 5 s
  // until a first load works). Until then /readyz reports the engine not ready.
  void start() override;
  void stop() override;
  // Airflow requests sent, catalog refreshes that failed, seconds since the last good one.
  std::string metrics_text() const override;

  // Reloads the DAG catalog now; the last good one stays in use when this fails.
  Status refresh_catalog();

  // (dag_id, dag_run_id)
  using RunKey = std::pair<std::string, std::string>;
  // The log of one try of one task, as text.
  Result<std::string> task_log(const RunRecord& run, const TaskInstanceInfo& task);

 private:
  struct Entry {
    WorkflowInfo info;
    std::string last_parsed;  // details are re-read when this changes
  };
  using Catalog = std::map<std::string, Entry>;

  Result<std::vector<TaskInstanceInfo>> fetch_tasks(const RunRecord& run);
  // The "=== task (try, state) ===" sections of `tasks` that ran, at most kMaxLogTasks.
  Result<std::string> task_logs_text(const RunRecord& run, const std::vector<TaskInstanceInfo>& tasks);
  Result<Entry> load_entry(const boost::json::object& dag, const Catalog* previous);
  void refresher();

  const Config& config_;
  RunLedger& ledger_;
  std::shared_ptr<AirflowClient> client_;
  std::shared_ptr<CredentialsProvider> aws_;

  std::atomic<std::shared_ptr<const Catalog>> catalog_;
  mutable std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  std::optional<Error> load_error_;  // why the catalog is not loaded yet
  int64_t refresh_failures_ = 0;
  std::chrono::steady_clock::time_point last_good_refresh_{};
  bool stopping_ = false;
  bool refresh_wanted_ = false;
  std::chrono::steady_clock::time_point last_nudge_{};
  std::thread thread_;
  std::mutex refresh_mu_;  // one catalog refresh at a time
};

// URL paths of the API objects scigate uses (percent-encoded ids).
std::string dag_path(const std::string& dag_id);
std::string dag_run_path(const std::string& dag_id, const std::string& dag_run_id);

// GET `path` page by page (limit/offset) and returns the items of `list_key` of every
// page. Bounded to 1,000 pages.
Result<std::vector<boost::json::value>> get_all_pages(const AirflowClient& client, const std::string& path,
                                                      std::vector<std::pair<std::string, std::string>> query,
                                                      const char* list_key);

}  // namespace scigate
