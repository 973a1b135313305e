#include "engine/airflow_sync.h"

#include <spdlog/spdlog.h>

#include "auth/jwt.h"
#include "core/json_util.h"
#include "engine/airflow_engine.h"
#include "engine/airflow_mapping.h"

namespace json = boost::json;

namespace scigate {

namespace {

// Run ids become /runs/{run_id} path segments.
bool usable_run_id(const std::string& id) {
  if (id.empty() || id.size() > 250) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '+' && c != '~') return false;
  }
  return id != "." && id != "..";
}

// The data selection a run's conf points at: a collection (and path inside it) whose
// bucket and prefix match; else bucket/prefix as given.
std::string data_selection_of(const Config& config, const std::string& bucket, const std::string& prefix) {
  for (const auto& [id, col] : config.collections) {
    if (col.bucket != bucket || prefix.rfind(col.prefix, 0) != 0) continue;
    std::string rest = prefix.substr(col.prefix.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    return rest.empty() ? id : id + "/" + rest;
  }
  return bucket + "/" + prefix;
}

}  // namespace

Result<SyncReport> sync_ledger(const AirflowClient& client, const Config& config, RunLedger& ledger, SystemTime since) {
  std::vector<std::pair<std::string, std::string>> query{
      {client.v2() ? "run_after_gte" : "execution_date_gte", format_iso8601(since)}, {"order_by", "id"}};
  auto runs = get_all_pages(client, "/dags/~/dagRuns", std::move(query), "dag_runs");
  if (!runs) return runs.error();
  SyncReport report;
  for (const auto& v : *runs) {
    ++report.seen;
    if (!v.is_object()) continue;
    const auto& dr = v.get_object();
    const auto* conf_v = dr.if_contains("conf");
    const json::object empty;
    const json::object& conf = conf_v && conf_v->is_object() ? conf_v->get_object() : empty;
    std::string raw_user = string_or(conf, "username");
    if (raw_user.empty()) {
      ++report.no_user;
      continue;
    }
    auto user = username_from_claim(raw_user);
    std::string run_id = string_or(dr, "dag_run_id");
    if (!user || *user != raw_user || !usable_run_id(run_id)) {
      spdlog::warn("ledger sync: skipping run {} of {} (unusable run id or username)", run_id, string_or(dr, "dag_id"));
      ++report.unusable;
      continue;
    }
    RunRecord rec;
    rec.run_id = run_id;
    rec.engine_run_id = run_id;
    rec.workflow_id = string_or(dr, "dag_id");
    rec.username = *user;
    rec.data_selection = data_selection_of(config, string_or(conf, "in_bucket"), string_or(conf, "in_prefix"));
    json::object params = conf;
    for (const char* k : kServerConfKeys) params.erase(k);
    rec.params_json = json::serialize(params);
    rec.output_bucket = string_or(conf, "out_bucket", config.staging.bucket);
    std::string out_prefix = string_or(conf, "out_prefix", config.staging.prefix + *user + "/" + run_id);
    rec.output_prefix = out_prefix.empty() || out_prefix.back() == '/' ? out_prefix : out_prefix + "/";
    auto st = dag_run_status(v);
    rec.state = st ? st->state : RunState::kQueued;
    rec.started_us = st ? st->started_us : 0;
    rec.ended_us = st ? st->ended_us : 0;
    rec.created_us = timestamp_us(dr, client.v2() ? "run_after" : "execution_date");
    if (rec.created_us == 0) rec.created_us = timestamp_us(dr, "logical_date");
    if (rec.created_us == 0) rec.created_us = rec.started_us;
    auto inserted = ledger.insert(rec);
    if (!inserted && inserted.error().code == ErrorCode::kConflict) {
      ++report.known;  // in the ledger already (an earlier sync, or another instance's now)
      continue;
    }
    if (!inserted) return inserted.error();
    ++report.imported;
  }
  return report;
}

}  // namespace scigate
