// Helpers shared by the handlers (internal to the api component).
#pragma once

#include <boost/json.hpp>
#include <string>

#include "api/api.h"

namespace scigate::api {

// The error response; 5xx details go to the log with the request id, never to the client.
Response fail(const RequestContext& ctx, const Error& error);

// `limit` query parameter: default when absent, 400 when not an integer in [1, max].
Result<int> page_limit(const Request& req, int fallback, int max);

// {public_url}/output-data/{path relative to staging.prefix}
std::string output_url(const ApiDeps& d, const std::string& staging_key_prefix);

// ISO 8601 time for Unix microseconds, or null when zero.
boost::json::value time_or_null(int64_t unix_us);

// A run as GET /runs/{run_id} shows it, and the shorter form of run listings (runs.cc).
boost::json::object run_detail(const ApiDeps& d, const RunRecord& r);
boost::json::object run_summary(const ApiDeps& d, const RunRecord& r);
// Brings a run's ledger entry up to date with the engine (runs.cc).
Result<RunRecord> refreshed(const ApiDeps& d, RunRecord run);
// The caller's own run as the ledger has it, or 404 (another user's run is not revealed).
Result<RunRecord> own_ledger_run(const ApiDeps& d, const RequestContext& ctx, const Request& req);

}  // namespace scigate::api

namespace scigate::api {

// A data selection as a caller names it: a collection id, or "collection/sub/path" for
// a dataset inside a collection (the seed's data_id may contain '/').
struct DataSelection {
  const CollectionConfig* collection = nullptr;
  std::string sub_path;  // "" or "a/b/" (validated, ends with '/')
  std::string prefix() const { return collection->prefix + sub_path; }
};

// 404 when unknown or when the caller may not use it (existence is not revealed).
Result<DataSelection> resolve_data_selection(const ApiDeps& d, const std::string& user, const std::string& id);
// The same without asking who may use it: only for requests authorized otherwise (a grant).
Result<DataSelection> find_data_selection(const ApiDeps& d, const std::string& id);

}  // namespace scigate::api
