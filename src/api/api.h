// The endpoint handlers and the route table. Handlers are pure functions of
// (ApiDeps, RequestContext, Request) → Response: no sockets, no config files, no
// globals; everything they use comes in through ApiDeps, so they are unit-tested as is.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "auth/policy.h"
#include "catalog/config.h"
#include "core/url_signer.h"
#include "engine/workflow_engine.h"
#include "http/metrics.h"
#include "http/router.h"
#include "ledger/run_ledger.h"
#include "raster/raster_readers.h"
#include "storage/local_store.h"
#include "storage/store_factory.h"

namespace scigate {

struct ApiDeps {
  const Config& config;
  const Policy& policy;
  WorkflowEngine& engine;
  RunLedger& ledger;
  const StoreMap& stores;
  const CredentialsMap& credentials;  // of the `type: s3` providers
  ObjectStore& staging;
  // Stores of `type: file` providers, for the presigned links scigate serves itself.
  std::map<std::string, LocalObjectStore*> local_stores;
  const Metrics& metrics;
  // The tiler: COG readers over the providers' stores, the key of tile-URL grants, and
  // the latency histogram of rendered tiles.
  raster::RasterReaders& rasters;
  const UrlSigner& grant_signer;
  Histogram& tile_seconds;
};

// Registers every endpoint of DESIGN.md's API table on `router`.
void add_routes(Router& router, const ApiDeps& deps);

namespace api {

// Catalog: workflows and data selections (handlers.cc).
Response list_workflows(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response describe_workflow(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response list_data_selections(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response workflows_for_data_selection(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// Runs (runs.cc).
Response start_run(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response list_runs(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response get_run(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cancel_run(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response run_logs(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response run_events(const ApiDeps& d, const RequestContext& ctx, const Request& req);  // SSE (events.cc)

// Outputs and files (outputs.cc).
Response browse_outputs(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response browse_data_selection(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response update_output_metadata(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response serve_signed_file(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// Map tiles, TiTiler's /cog endpoints (tiles.cc).
Response cog_info(const ApiDeps& d, const RequestContext& ctx, const Request& req);  // and info.geojson
Response cog_statistics(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cog_point(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cog_tile(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cog_tilejson(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cog_map(const ApiDeps& d, const RequestContext& ctx, const Request& req);  // map.html
Response cog_preview(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response cog_bbox(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// Deep zoom for images that are not maps: DZI and IIIF Image 3.0 level 1 (deepzoom.cc).
Response deepzoom_links(const ApiDeps& d, const RequestContext& ctx, const Request& req);  // GET /deepzoom
Response dzi_descriptor(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response dzi_tile(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response iiif_base(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response iiif_info(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response iiif_image(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response tile_matrix_sets(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response tile_matrix_set(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// Operations (ops.cc).
Response healthz(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response readyz(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response metrics(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response openapi(const ApiDeps& d, const RequestContext& ctx, const Request& req);
Response docs(const ApiDeps& d, const RequestContext& ctx, const Request& req);

}  // namespace api
}  // namespace scigate
