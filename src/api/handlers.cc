// Catalog endpoints: which workflows and data selections the caller may use.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/common.h"
#include "core/key_path.h"

namespace json = boost::json;

namespace scigate {
namespace api {

Response fail(const RequestContext& ctx, const Error& error) {
  if (http_status(error.code) >= 500) {
    spdlog::error("request {}: {}", ctx.request_id, error.internal);
  }
  return Response::error(error, ctx.request_id);
}

Result<int> page_limit(const Request& req, int fallback, int max) {
  std::string raw = req.query_param("limit");
  if (raw.empty()) return fallback;
  if (raw.size() > 6 || !std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error::bad_request("limit must be an integer between 1 and " + std::to_string(max));
  }
  int v = std::stoi(raw);
  if (v < 1 || v > max) return Error::bad_request("limit must be an integer between 1 and " + std::to_string(max));
  return v;
}

std::string output_url(const ApiDeps& d, const std::string& staging_key_prefix) {
  std::string rel = staging_key_prefix.substr(std::min(d.config.staging.prefix.size(), staging_key_prefix.size()));
  return d.config.server.public_url + "/output-data/" + percent_encode(rel);
}

json::value time_or_null(int64_t unix_us) {
  if (unix_us == 0) return nullptr;
  return json::string(format_iso8601(from_unix_micros(unix_us)));
}

Result<DataSelection> find_data_selection(const ApiDeps& d, const std::string& id) {
  auto not_found = Error::not_found("no such data selection: " + id);
  auto exact = d.config.collections.find(id);
  if (exact != d.config.collections.end()) return DataSelection{&exact->second, ""};
  size_t slash = id.find('/');
  if (slash == std::string::npos) return not_found;
  auto c = d.config.collections.find(id.substr(0, slash));
  if (c == d.config.collections.end()) return not_found;
  auto sub = parse_relative_key(percent_encode(id.substr(slash + 1)));
  if (!sub || sub->path.empty()) return Error::bad_request("invalid data selection path: " + id);
  return DataSelection{&c->second, sub->path + "/"};
}

Result<DataSelection> resolve_data_selection(const ApiDeps& d, const std::string& user, const std::string& id) {
  auto sel = find_data_selection(d, id);
  if (sel && !d.policy.may_use_collection(user, sel->collection->id))
    return Error::not_found("no such data selection: " + id);
  return sel;
}

namespace {

// The engine's workflows that `user` may run on at least one data selection, by id.
Result<std::vector<WorkflowInfo>> visible_workflows(const ApiDeps& d, const std::string& user,
                                                    const std::vector<std::string>& allowed_ids) {
  auto all = d.engine.list_workflows();
  if (!all) return all.error();
  std::vector<WorkflowInfo> out;
  for (auto& wf : *all) {
    if (std::binary_search(allowed_ids.begin(), allowed_ids.end(), wf.id)) out.push_back(std::move(wf));
  }
  return out;
}

json::array summaries(const std::vector<WorkflowInfo>& wfs) {
  json::array out;
  for (const auto& wf : wfs) out.push_back(json::object{{"id", wf.id}, {"description", wf.description}});
  return out;
}

}  // namespace

Response list_workflows(const ApiDeps& d, const RequestContext& ctx, const Request&) {
  auto wfs = visible_workflows(d, ctx.username, d.policy.workflows_for(ctx.username));
  if (!wfs) return fail(ctx, wfs.error());
  return Response::json(200, json::object{{"workflows", summaries(*wfs)}});
}

Response describe_workflow(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  const std::string& id = req.path_params.at("id");
  auto selections = d.policy.collections_for_workflow(ctx.username, id);
  if (selections.empty()) return fail(ctx, Error::not_found("no such workflow: " + id));
  auto wf = d.engine.describe(id);
  if (!wf) return fail(ctx, wf.error());
  json::array sel(selections.begin(), selections.end());
  json::value schedule = wf->schedule ? json::value(json::string(*wf->schedule)) : json::value(nullptr);
  return Response::json(200, json::object{{"id", wf->id},
                                          {"description", wf->description},
                                          {"parameters", wf->params.to_json_schema()},
                                          {"schedule", schedule},
                                          {"data_selections", std::move(sel)}});
}

Response list_data_selections(const ApiDeps& d, const RequestContext& ctx, const Request&) {
  json::array out;
  for (const auto& id : d.policy.collections_for(ctx.username)) {
    const auto& c = d.config.collections.at(id);
    auto wfs = d.policy.workflows_on(ctx.username, id);
    out.push_back(
        json::object{{"id", id}, {"description", c.description}, {"workflows", json::array(wfs.begin(), wfs.end())}});
  }
  return Response::json(200, json::object{{"data_selections", std::move(out)}});
}

Response workflows_for_data_selection(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto it = req.path_params.find("id");
  std::string data_id = it != req.path_params.end() ? it->second : req.query_param("data_id");
  if (data_id.empty()) return fail(ctx, Error::bad_request("query parameter data_id is required"));
  auto selection = resolve_data_selection(d, ctx.username, data_id);
  if (!selection) return fail(ctx, selection.error());
  auto ids = d.policy.workflows_on(ctx.username, selection->collection->id);
  auto wfs = visible_workflows(d, ctx.username, ids);
  if (!wfs) return fail(ctx, wfs.error());
  return Response::json(200, json::object{{"workflows", summaries(*wfs)}});
}

}  // namespace api
}  // namespace scigate
