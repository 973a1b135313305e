// Run endpoints: start, list, inspect, cancel, logs.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/bodies.h"
#include "api/common.h"
#include "core/json_util.h"

namespace json = boost::json;

namespace scigate {
namespace api {

namespace {

constexpr size_t kMaxIdempotencyKey = 200;

Result<std::string> idempotency_key(const Request& req) {
  std::string key = req.header("idempotency-key");
  if (key.size() > kMaxIdempotencyKey) return Error::bad_request("Idempotency-Key is too long (max 200)");
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) return Error::bad_request("Idempotency-Key must be printable ASCII");
  }
  return key;
}

json::object make_conf(const ApiDeps& d, const RunRecord& run, const DataSelection& sel, const json::object& params) {
  json::object conf = params;
  conf["in_bucket"] = sel.collection->bucket;
  conf["in_prefix"] = sel.prefix();
  conf["out_bucket"] = run.output_bucket;
  conf["out_prefix"] = run.output_prefix.substr(0, run.output_prefix.size() - 1);
  conf["username"] = run.username;
  return conf;
}

// A dataset inside a collection ("collection/sub/path") must hold at least one object;
// a whole collection is taken as configured.
Status check_dataset_exists(const ApiDeps& d, const DataSelection& sel) {
  if (sel.sub_path.empty()) return ok_status();
  auto store = d.stores.find(sel.collection->provider);
  if (store == d.stores.end()) return Error::internal_error("no store for provider " + sel.collection->provider);
  auto page = store->second->list({sel.collection->bucket, sel.prefix(), "", "", 1});
  if (!page) return page.error();
  if (page->objects.empty())
    return Error::not_found("no such data selection: " + sel.collection->id + "/" + sel.sub_path);
  return ok_status();
}

Response created_response(const ApiDeps& d, const RunRecord& run, int status) {
  json::object body{{"run_id", run.run_id},
                    {"workflow_id", run.workflow_id},
                    {"status", to_string(run.state)},
                    {"output_url", output_url(d, run.output_prefix)}};
  return Response::json(status, body).with_header("Location", "/runs/" + run.run_id);
}

}  // namespace

json::object run_summary(const ApiDeps& d, const RunRecord& r) {
  return json::object{{"run_id", r.run_id},
                      {"workflow_id", r.workflow_id},
                      {"data_selection", r.data_selection},
                      {"status", to_string(r.state)},
                      {"created_time", time_or_null(r.created_us)},
                      {"start_time", time_or_null(r.started_us)},
                      {"end_time", time_or_null(r.ended_us)},
                      {"output_url", output_url(d, r.output_prefix)}};
}

json::object run_detail(const ApiDeps& d, const RunRecord& r) {
  json::object out = run_summary(d, r);
  auto params = parse_json(r.params_json);
  out["params"] = params ? *params : json::object{};
  out["progress"] = json::object{{"tasks_done", r.tasks_done}, {"tasks_total", r.tasks_total}};
  if (!r.reason.empty()) out["reason"] = r.reason;
  return out;
}

namespace {
// Records the engine's view of a run in the ledger when it changed.
RunRecord updated(const ApiDeps& d, RunRecord run, const RunStatus& st) {
  if (st.state == run.state && st.tasks_done == run.tasks_done && st.tasks_total == run.tasks_total &&
      st.ended_us == run.ended_us)
    return run;
  run.state = st.state;
  run.started_us = st.started_us;
  run.ended_us = st.ended_us;
  run.tasks_done = st.tasks_done;
  run.tasks_total = st.tasks_total;
  run.reason = st.reason;
  (void)d.ledger.update(run);
  return run;
}
}  // namespace

// Brings a run's ledger entry up to date with the engine (a no-op for the local engine,
// whose state store is the ledger). A run the engine has forgotten ends as failed. A
// finished run is final, unless its progress is unknown (0/0: it was seen finishing in a
// listing), which is read once, best effort.
Result<RunRecord> refreshed(const ApiDeps& d, RunRecord run) {
  if (is_terminal(run.state)) {
    if (run.tasks_total > 0) return run;
    auto st = d.engine.status(run);
    if (!st || !is_terminal(st->state)) return run;
    // Only the progress: how the run ended (e.g. canceled, shown by Airflow as failed) stands.
    RunStatus progress{run.state,      run.started_us,  run.ended_us,
                       st->tasks_done, st->tasks_total, run.reason.empty() ? st->reason : run.reason};
    return updated(d, std::move(run), progress);
  }
  auto st = d.engine.status(run);
  if (!st && st.error().code == ErrorCode::kNotFound) {
    RunStatus gone{RunState::kFailed, run.started_us,  to_unix_micros(std::chrono::system_clock::now()),
                   run.tasks_done,    run.tasks_total, "the workflow engine no longer knows this run"};
    return updated(d, std::move(run), gone);
  }
  if (!st) return st.error();
  return updated(d, std::move(run), *st);
}

// The caller's own run as the ledger has it, or 404 (another user's run is not revealed).
Result<RunRecord> own_ledger_run(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = d.ledger.get(req.path_params.at("run_id"));
  if (!run) return run.error();
  if (run->username != ctx.username) return Error::not_found("no such run");
  return run;
}

namespace {
// The caller's own run, brought up to date with the engine.
Result<RunRecord> own_run(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = own_ledger_run(d, ctx, req);
  if (!run) return run.error();
  return refreshed(d, std::move(run).value());
}
}  // namespace

Response start_run(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  const std::string& workflow_id = req.path_params.at("id");
  auto body = parse_run_request(req.body, workflow_id);
  if (!body) return fail(ctx, body.error());
  auto key = idempotency_key(req);
  if (!key) return fail(ctx, key.error());
  if (d.policy.collections_for_workflow(ctx.username, workflow_id).empty()) {
    return fail(ctx, Error::not_found("no such workflow: " + workflow_id));
  }
  auto sel = resolve_data_selection(d, ctx.username, body->data_selection);
  if (!sel) return fail(ctx, sel.error());
  if (!d.policy.may_run(ctx.username, workflow_id, sel->collection->id)) {
    return fail(ctx, Error::forbidden("not authorized to run " + workflow_id + " on " + body->data_selection));
  }
  if (auto st = check_dataset_exists(d, *sel); !st) return fail(ctx, st.error());
  auto wf = d.engine.describe(workflow_id);
  if (!wf) return fail(ctx, wf.error());
  auto params = wf->params.validate(body->params);
  if (!params) return fail(ctx, params.error());

  RunRecord run;
  auto now = ctx.now;
  run.run_id = compact_stamp(now) + "-" + random_hex(4);
  run.workflow_id = workflow_id;
  run.username = ctx.username;
  run.data_selection = body->data_selection;
  run.params_json = json::serialize(*params);
  run.output_bucket = d.config.staging.bucket;
  run.output_prefix = d.config.staging.prefix + ctx.username + "/" + run.run_id + "/";
  run.engine_run_id = run.run_id;
  run.created_us = to_unix_micros(now);
  run.idempotency_key = *key;
  auto inserted = d.ledger.insert(run);
  if (!inserted) return fail(ctx, inserted.error());
  if (!inserted->created) {
    const RunRecord& prior = inserted->record;
    if (prior.workflow_id != run.workflow_id || prior.data_selection != run.data_selection ||
        prior.params_json != run.params_json) {
      return fail(ctx, Error::conflict("Idempotency-Key was already used for a different run request"));
    }
    // A replay answers from the ledger: the engine may be down, the run is still known.
    return created_response(d, prior, 200).with_header("Idempotent-Replayed", "true");
  }
  TriggerRequest trig{run, make_conf(d, run, *sel, *params), sel->collection->provider};
  auto engine_id = d.engine.trigger(trig);
  if (!engine_id) {
    // The run stays in the ledger, failed, with the reason: nothing is lost.
    run.state = RunState::kFailed;
    run.ended_us = to_unix_micros(std::chrono::system_clock::now());
    run.reason = "could not start: " + engine_id.error().client;
    (void)d.ledger.update(run);
    return fail(ctx, engine_id.error());
  }
  if (*engine_id != run.engine_run_id) {
    run.engine_run_id = *engine_id;
    (void)d.ledger.update(run);
  }
  return created_response(d, run, 201);
}

Response list_runs(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  const std::string& workflow_id = req.path_params.at("id");
  if (d.policy.collections_for_workflow(ctx.username, workflow_id).empty()) {
    return fail(ctx, Error::not_found("no such workflow: " + workflow_id));
  }
  auto limit = page_limit(req, 50, 500);
  if (!limit) return fail(ctx, limit.error());
  auto page = d.ledger.list_for_user({ctx.username, workflow_id, *limit, req.query_param("cursor")});
  if (!page) return fail(ctx, page.error());
  // One engine call for the whole page, not one per run.
  auto current = d.engine.statuses(page->runs);
  if (!current) spdlog::warn("runs page: cannot refresh statuses: {}", current.error().internal);
  json::array runs;
  for (auto& r : page->runs) {
    auto it = current ? current->find(r.run_id) : std::map<std::string, RunStatus>::const_iterator{};
    bool known = current && it != current->end();
    runs.push_back(run_summary(d, known ? updated(d, r, it->second) : r));
  }
  json::value next = page->next_cursor.empty() ? json::value(nullptr) : json::value(json::string(page->next_cursor));
  return Response::json(200, json::object{{"runs", std::move(runs)}, {"next_cursor", next}});
}

Response get_run(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = own_run(d, ctx, req);
  if (!run) return fail(ctx, run.error());
  return Response::json(200, run_detail(d, *run));
}

Response cancel_run(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = own_run(d, ctx, req);
  if (!run) return fail(ctx, run.error());
  if (auto st = d.engine.cancel(*run); !st) return fail(ctx, st.error());
  auto after = d.ledger.get(run->run_id);
  return Response::json(202, run_detail(d, after ? *after : *run));
}

Response run_logs(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = own_ledger_run(d, ctx, req);  // the logs say how far it got: no refresh needed
  if (!run) return fail(ctx, run.error());
  auto logs = d.engine.logs(*run);
  if (!logs) return fail(ctx, logs.error());
  return Response::streamed(200, std::move(logs).value(), "text/plain; charset=utf-8");
}

}  // namespace api
}  // namespace scigate
