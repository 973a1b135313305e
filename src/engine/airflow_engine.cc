#include "engine/airflow_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "core/json_util.h"
#include "core/key_path.h"
#include "core/time_util.h"
#include "credentials/rotating.h"

namespace json = boost::json;

namespace scigate {

namespace {

constexpr int kPageSize = 100;
constexpr int kMaxPages = 1'000;
constexpr int kMaxBatchPages = 20;
constexpr size_t kMaxLogTasks = 100;
// A batch status window reaches this far beyond the runs' creation times on both sides:
// Airflow's clock may differ from scigate's. Narrow, so that a busy DAG's other runs
// rarely spill the answer over a second page.
constexpr auto kClockSlack = std::chrono::minutes(2);
// An unknown workflow asks for an early catalog refresh at most this often.
constexpr auto kNudgeInterval = std::chrono::seconds(5);

Error unexpected(const std::string& what, const AirflowReply& reply) {
  return {ErrorCode::kUpstreamFailed, "airflow " + what + ": " + airflow_error_detail(reply), "workflow engine failed"};
}

Error malformed(const std::string& what, const std::string& why) {
  return {ErrorCode::kUpstreamFailed, "airflow " + what + ": " + why, "workflow engine answered something unreadable"};
}

std::set<std::string> configured_workflows(const Config& config) {
  std::set<std::string> ids;
  for (const auto& [id, col] : config.collections) {
    for (const auto& [wf, users] : col.authorized_users) ids.insert(wf);
  }
  return ids;
}

std::string iso(int64_t unix_us) { return format_iso8601(from_unix_micros(unix_us)); }

}  // namespace

std::string dag_path(const std::string& dag_id) { return "/dags/" + percent_encode(dag_id, false); }

std::string dag_run_path(const std::string& dag_id, const std::string& dag_run_id) {
  return dag_path(dag_id) + "/dagRuns/" + percent_encode(dag_run_id, false);
}

Result<std::vector<json::value>> get_all_pages(const AirflowClient& client, const std::string& path,
                                               std::vector<std::pair<std::string, std::string>> query,
                                               const char* list_key) {
  std::vector<json::value> items;
  query.emplace_back("limit", std::to_string(kPageSize));
  query.emplace_back("offset", "0");
  for (int page = 0; page < kMaxPages; ++page) {
    query.back().second = std::to_string(items.size());
    auto r = client.call({"GET", path, query, std::nullopt, true});
    if (!r) return r.error();
    if (r->status != 200) return unexpected("GET " + path, *r);
    const auto* list = r->body.is_object() ? r->body.get_object().if_contains(list_key) : nullptr;
    if (!list || !list->is_array()) return malformed("GET " + path, std::string("answer has no ") + list_key);
    const auto& arr = list->get_array();
    items.insert(items.end(), arr.begin(), arr.end());
    const auto* total = r->body.get_object().if_contains("total_entries");
    bool more = total && total->is_int64() ? static_cast<int64_t>(items.size()) < total->as_int64()
                                           : static_cast<int>(arr.size()) == kPageSize;
    if (arr.empty() || !more) return items;
  }
  spdlog::warn("airflow GET {}: stopped after {} pages", path, kMaxPages);
  return items;
}

AirflowEngine::AirflowEngine(const Config& config, RunLedger& ledger, std::shared_ptr<AirflowClient> client,
                             std::shared_ptr<CredentialsProvider> aws)
    : config_(config), ledger_(ledger), client_(std::move(client)), aws_(std::move(aws)) {}

AirflowEngine::~AirflowEngine() { stop(); }

// ---- catalog ---------------------------------------------------------------------------

Result<AirflowEngine::Entry> AirflowEngine::load_entry(const json::object& dag, const Catalog* previous) {
  std::string id = string_or(dag, "dag_id");
  std::string parsed = string_or(dag, "last_parsed_time");
  if (previous) {
    auto it = previous->find(id);
    if (it != previous->end() && !parsed.empty() && it->second.last_parsed == parsed) return it->second;
  }
  auto r = client_->call({"GET", dag_path(id) + "/details", {}, std::nullopt, true});
  if (!r) return r.error();
  if (r->status != 200) return unexpected("GET details of " + id, *r);
  if (!r->body.is_object()) return malformed("GET details of " + id, "not an object");
  const auto& details = r->body.get_object();
  Entry e;
  e.last_parsed = parsed;
  e.info.id = id;
  e.info.schedule = dag_schedule(details);
  auto wf = config_.workflows.find(id);
  if (wf != config_.workflows.end() && !wf->second.description.empty()) {
    e.info.description = wf->second.description;
  } else {
    e.info.description = string_or(details, "description");
  }
  if (wf != config_.workflows.end() && !wf->second.params.specs().empty()) {
    e.info.params = wf->second.params;  // the operator's narrower schema wins
  } else {
    const json::value* params = details.if_contains("params");
    auto schema = dag_params_schema(params ? *params : json::value(nullptr));
    if (!schema) return malformed("params of DAG " + id, schema.error().internal);
    e.info.params = schema->with_limits(config_.engine.param_limits);  // the same bounds as the local engine's
  }
  return e;
}

Status AirflowEngine::refresh_catalog() {
  std::lock_guard flight(refresh_mu_);
  auto dags = get_all_pages(*client_, "/dags", {}, "dags");
  auto previous = catalog_.load();
  if (!dags) {
    std::lock_guard lock(mu_);
    ++refresh_failures_;
    if (!previous) load_error_ = dags.error();
    return dags.error();
  }
  auto wanted = configured_workflows(config_);
  auto next = std::make_shared<Catalog>();
  for (const auto& v : *dags) {
    if (!v.is_object()) continue;
    const auto& dag = v.get_object();
    std::string id = string_or(dag, "dag_id");
    if (!wanted.count(id)) continue;
    const auto* paused = dag.if_contains("is_paused");
    if (paused && paused->is_bool() && paused->get_bool() && !config_.engine.show_paused) continue;
    auto entry = load_entry(dag, previous.get());
    if (entry) {
      (*next)[id] = std::move(entry).value();
    } else if (previous && previous->count(id)) {
      spdlog::warn("{} (keeping the previous description)", entry.error().internal);
      (*next)[id] = previous->at(id);
    } else {
      spdlog::warn("{} (workflow {} unavailable)", entry.error().internal, id);
    }
  }
  for (const auto& id : wanted) {
    if (!next->count(id)) spdlog::debug("airflow: workflow {} is not an active DAG", id);
  }
  catalog_.store(std::move(next));
  std::lock_guard lock(mu_);
  load_error_.reset();
  last_good_refresh_ = std::chrono::steady_clock::now();
  return ok_status();
}

std::string AirflowEngine::metrics_text() const {
  std::string out =
      "# HELP scigate_airflow_requests_total Requests sent to Airflow (retries and logins' API retries included).\n"
      "# TYPE scigate_airflow_requests_total counter\n"
      "scigate_airflow_requests_total " +
      std::to_string(client_->exchanges()) + "\n";
  std::lock_guard lock(mu_);
  out +=
      "# HELP scigate_airflow_catalog_refresh_failures_total DAG catalog refreshes that failed.\n"
      "# TYPE scigate_airflow_catalog_refresh_failures_total counter\n"
      "scigate_airflow_catalog_refresh_failures_total " +
      std::to_string(refresh_failures_) + "\n";
  if (last_good_refresh_ != std::chrono::steady_clock::time_point{}) {
    auto age = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_good_refresh_).count();
    out +=
        "# HELP scigate_airflow_catalog_age_seconds Seconds since the DAG catalog was last loaded.\n"
        "# TYPE scigate_airflow_catalog_age_seconds gauge\n"
        "scigate_airflow_catalog_age_seconds " +
        std::to_string(age) + "\n";
  }
  return out;
}

Result<std::vector<WorkflowInfo>> AirflowEngine::list_workflows() {
  auto catalog = catalog_.load();
  if (!catalog) {
    std::lock_guard lock(mu_);
    if (load_error_) return *load_error_;
    return Error{ErrorCode::kUnavailable, "airflow: DAG catalog not loaded yet", "workflow list not loaded yet"};
  }
  std::vector<WorkflowInfo> out;
  out.reserve(catalog->size());
  for (const auto& [id, e] : *catalog) out.push_back(e.info);
  return out;
}

Result<WorkflowInfo> AirflowEngine::describe(const std::string& workflow_id) {
  auto catalog = catalog_.load();
  if (catalog) {
    auto it = catalog->find(workflow_id);
    if (it != catalog->end()) return it->second.info;
  }
  {
    // A DAG deployed since the last refresh shows up without waiting a whole TTL.
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_nudge_ >= kNudgeInterval) {
      last_nudge_ = now;
      refresh_wanted_ = true;
      cv_.notify_all();
    }
  }
  if (!catalog) return list_workflows().error();
  return Error::not_found("no such workflow: " + workflow_id);
}

void AirflowEngine::start() {
  if (auto* rotating = dynamic_cast<RotatingCredentials*>(aws_.get())) rotating->start();
  std::lock_guard lock(mu_);
  stopping_ = false;
  refresh_wanted_ = true;  // the first load starts at once, without holding up the server
  thread_ = std::thread([this] { refresher(); });
}

void AirflowEngine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (auto* rotating = dynamic_cast<RotatingCredentials*>(aws_.get())) rotating->stop();
}

void AirflowEngine::refresher() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Until the first load works, retry sooner than the TTL.
    auto wait = catalog_.load()
                    ? config_.engine.dag_cache_ttl
                    : std::min<std::chrono::milliseconds>(config_.engine.dag_cache_ttl, std::chrono::seconds(5));
    cv_.wait_for(lock, wait, [&] { return stopping_ || refresh_wanted_; });
    if (stopping_) break;
    refresh_wanted_ = false;
    lock.unlock();
    auto st = refresh_catalog();
    if (st) {
      spdlog::debug("airflow: DAG catalog loaded");
    } else {
      spdlog::warn("airflow: DAG catalog refresh failed: {}", st.error().internal);
    }
    lock.lock();
  }
}

// ---- runs ------------------------------------------------------------------------------

Result<std::string> AirflowEngine::trigger(const TriggerRequest& req) {
  const RunRecord& run = req.run;
  json::object body{{"dag_run_id", run.engine_run_id}, {"conf", req.conf}};
  if (client_->v2()) body["logical_date"] = nullptr;  // Airflow 3 requires the key
  // Retrying is safe: the id is scigate's, so a run Airflow already took answers 409.
  auto r = client_->call({"POST", dag_path(run.workflow_id) + "/dagRuns", {}, json::value(std::move(body)), true});
  if (!r) return r.error();
  switch (r->status) {
    case 200:
    case 201:
      return run.engine_run_id;
    case 409:
      spdlog::info("airflow: run {} of {} already existed (a retried trigger)", run.engine_run_id, run.workflow_id);
      return run.engine_run_id;
    case 404:
      return Error::not_found("no such workflow: " + run.workflow_id);
    case 400:
    case 422:
      // Airflow's own param validation speaks about the caller's params.
      return Error{ErrorCode::kBadRequest, "airflow trigger " + run.workflow_id + ": " + airflow_error_detail(*r),
                   "the workflow engine refused the run: " + airflow_error_detail(*r)};
    default:
      return unexpected("trigger " + run.workflow_id, *r);
  }
}

Result<std::vector<TaskInstanceInfo>> AirflowEngine::fetch_tasks(const RunRecord& run) {
  auto items = get_all_pages(*client_, dag_run_path(run.workflow_id, run.engine_run_id) + "/taskInstances", {},
                             "task_instances");
  if (!items) return items.error();
  return task_instances(*items);
}

namespace {

void set_progress(RunStatus& st, const std::vector<TaskInstanceInfo>& tasks) {
  st.tasks_total = static_cast<int>(tasks.size());
  st.tasks_done = 0;
  std::string failed;
  for (const auto& t : tasks) {
    if (task_finished(t)) ++st.tasks_done;
    if (t.state == "failed") failed += (failed.empty() ? "" : ", ") + t.task_id;
  }
  if (st.state == RunState::kFailed && !failed.empty()) st.reason = "failed tasks: " + failed;
}

}  // namespace

Result<RunStatus> AirflowEngine::status(const RunRecord& run) {
  RunStatus st{run.state, run.started_us, run.ended_us, 0, 0, run.reason};
  if (!is_terminal(run.state)) {  // a finished run's end is known: only its tasks are asked
    std::string path = dag_run_path(run.workflow_id, run.engine_run_id);
    auto r = client_->call({"GET", path, {}, std::nullopt, true});
    if (!r) return r.error();
    if (r->status == 404) return Error::not_found("run " + run.run_id + " is unknown to the workflow engine");
    if (r->status != 200) return unexpected("GET " + path, *r);
    auto current = dag_run_status(r->body);
    if (!current) return malformed("GET " + path, current.error().internal);
    st = std::move(current).value();
  }
  auto tasks = fetch_tasks(run);
  if (!tasks) return tasks.error();
  set_progress(st, *tasks);
  return st;
}

Result<std::map<std::string, RunStatus>> AirflowEngine::statuses(const std::vector<RunRecord>& runs) {
  std::map<RunKey, const RunRecord*> wanted;
  std::set<std::string> dag_ids;
  int64_t oldest = 0, newest = 0;
  for (const auto& run : runs) {
    if (is_terminal(run.state) || run.engine_run_id.empty()) continue;
    wanted[{run.workflow_id, run.engine_run_id}] = &run;
    dag_ids.insert(run.workflow_id);
    if (oldest == 0 || run.created_us < oldest) oldest = run.created_us;
    newest = std::max(newest, run.created_us);
  }
  std::map<std::string, RunStatus> out;
  if (wanted.empty()) return out;
  const int64_t slack = std::chrono::duration_cast<std::chrono::microseconds>(kClockSlack).count();
  // Newest first: the runs still in flight are usually the newest, so one page finds them.
  json::object body{{"dag_ids", json::array(dag_ids.begin(), dag_ids.end())},
                    {"page_limit", kPageSize},
                    {"order_by", client_->v2() ? "-run_after" : "-execution_date"}};
  body[client_->v2() ? "run_after_gte" : "execution_date_gte"] = iso(oldest - slack);
  body[client_->v2() ? "run_after_lte" : "execution_date_lte"] = iso(newest + slack);
  size_t found = 0;
  for (int page = 0, offset = 0; page < kMaxBatchPages && found < wanted.size(); ++page) {
    body["page_offset"] = offset;
    auto r = client_->call({"POST", "/dags/~/dagRuns/list", {}, json::value(body), true});
    if (!r) return r.error();
    if (r->status != 200) return unexpected("POST /dags/~/dagRuns/list", *r);
    const auto* list = r->body.is_object() ? r->body.get_object().if_contains("dag_runs") : nullptr;
    if (!list || !list->is_array()) return malformed("POST /dags/~/dagRuns/list", "answer has no dag_runs");
    for (const auto& dr : list->get_array()) {
      if (!dr.is_object()) continue;
      auto it = wanted.find({string_or(dr.get_object(), "dag_id"), string_or(dr.get_object(), "dag_run_id")});
      if (it == wanted.end()) continue;
      auto st = dag_run_status(dr);
      if (!st) continue;
      const RunRecord& run = *it->second;
      // Listings do not show progress: keep the ledger's while the run is in flight. A run
      // that just finished gets "unknown" (0/0), read once when somebody opens it.
      st->tasks_done = is_terminal(st->state) ? 0 : run.tasks_done;
      st->tasks_total = is_terminal(st->state) ? 0 : run.tasks_total;
      out[run.run_id] = std::move(st).value();
      ++found;
    }
    offset += static_cast<int>(list->get_array().size());
    if (list->get_array().size() < static_cast<size_t>(kPageSize)) break;
  }
  return out;
}

Status AirflowEngine::cancel(const RunRecord& run) {
  if (is_terminal(run.state)) return Error::conflict("run already finished: " + std::string(to_string(run.state)));
  json::object body{{"state", "failed"}};
  if (client_->v2()) body["note"] = "canceled through scigate";
  std::string path = dag_run_path(run.workflow_id, run.engine_run_id);
  auto r = client_->call({"PATCH", path, {}, json::value(std::move(body)), true});  // idempotent: same end state
  if (!r) return r.error();
  if (r->status == 404) return Error::not_found("run " + run.run_id + " is unknown to the workflow engine");
  if (r->status != 200) return unexpected("PATCH " + path, *r);
  RunRecord after = run;
  after.state = RunState::kCanceled;
  after.ended_us = to_unix_micros(std::chrono::system_clock::now());
  after.reason = "canceled by user";
  return ledger_.update(after);
}

Result<std::shared_ptr<ByteSource>> AirflowEngine::logs(const RunRecord& run) {
  auto tasks = fetch_tasks(run);
  if (!tasks) return tasks.error();
  auto text = task_logs_text(run, *tasks);
  if (!text) return text.error();
  return string_source(std::move(text).value());
}

Result<LogSlice> AirflowEngine::read_log(const RunRecord& run, uint64_t offset, size_t max) {
  auto tasks = fetch_tasks(run);
  if (!tasks) return tasks.error();
  std::vector<TaskInstanceInfo> finished;
  for (auto& t : *tasks) {
    if (task_finished(t)) finished.push_back(std::move(t));
  }
  // Airflow gives end dates in UTC in one format: as strings they sort by time.
  std::stable_sort(finished.begin(), finished.end(), [](const TaskInstanceInfo& a, const TaskInstanceInfo& b) {
    return std::tie(a.end_date, a.task_id, a.map_index) < std::tie(b.end_date, b.task_id, b.map_index);
  });
  auto text = task_logs_text(run, finished);
  if (!text) return text.error();
  LogSlice out{"", text->size()};
  if (offset < text->size()) out.bytes = text->substr(offset, max);
  return out;
}

Result<std::string> AirflowEngine::task_logs_text(const RunRecord& run, const std::vector<TaskInstanceInfo>& tasks) {
  std::string out;
  size_t n = 0;
  for (const auto& t : tasks) {
    if (t.try_number < 1) continue;  // never ran: no log yet
    if (++n > kMaxLogTasks) {
      out += "… (logs of " + std::to_string(tasks.size() - kMaxLogTasks) + " more tasks left out)\n";
      break;
    }
    out += "=== " + t.task_id + (t.map_index >= 0 ? "[" + std::to_string(t.map_index) + "]" : "") + " (try " +
           std::to_string(t.try_number) + ", " + (t.state.empty() ? "no status" : t.state) + ") ===\n";
    auto text = task_log(run, t);
    if (!text) return text.error();
    out += *text;
    if (!text->empty() && text->back() != '\n') out += '\n';
  }
  return out;
}

Result<std::string> AirflowEngine::task_log(const RunRecord& run, const TaskInstanceInfo& task) {
  std::string path = dag_run_path(run.workflow_id, run.engine_run_id) + "/taskInstances/" +
                     percent_encode(task.task_id, false) + "/logs/" + std::to_string(task.try_number);
  std::vector<std::pair<std::string, std::string>> query{{"full_content", "true"}};
  if (task.map_index >= 0) query.emplace_back("map_index", std::to_string(task.map_index));
  auto r = client_->call({"GET", path, query, std::nullopt, true});
  if (!r) return r.error();
  if (r->status == 404) return std::string("(no log)\n");
  if (r->status != 200) return unexpected("GET " + path, *r);
  return log_text(r->body);
}

}  // namespace scigate
