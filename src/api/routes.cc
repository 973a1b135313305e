// The route table: one line per endpoint (docs/ARCHITECTURE.md, "Where to add things").
#include "api/api.h"
#include "api/assets.h"
#include "api/webapp.h"

namespace scigate {

namespace {

using ApiHandler = Response (*)(const ApiDeps&, const RequestContext&, const Request&);

Route route(const ApiDeps& deps, const char* method, const std::string& pattern, ApiHandler fn,
            Auth auth = Auth::kRequired, bool blocking = true) {
  return Route{method, pattern, auth, blocking,
               [&deps, fn](const RequestContext& ctx, const Request& req) { return fn(deps, ctx, req); }};
}

}  // namespace

void add_routes(Router& r, const ApiDeps& d) {
  // Workflow listings and descriptions never block (WorkflowEngine's contract), so they
  // skip the worker pool; everything that may touch the ledger, a store or a remote
  // engine runs there.
  r.add(route(d, "GET", "/workflows", api::list_workflows, Auth::kRequired, /*blocking=*/false));
  r.add(route(d, "GET", "/workflows/{id}", api::describe_workflow, Auth::kRequired, /*blocking=*/false));
  r.add(route(d, "POST", "/workflows/{id}/runs", api::start_run));
  r.add(route(d, "GET", "/workflows/{id}/runs", api::list_runs));
  r.add(route(d, "GET", "/data-selections", api::list_data_selections, Auth::kRequired, /*blocking=*/false));
  r.add(route(d, "GET", "/data-selections/workflows", api::workflows_for_data_selection, Auth::kRequired,
              /*blocking=*/false));
  r.add(route(d, "GET", "/data-selections/{id}/workflows", api::workflows_for_data_selection, Auth::kRequired,
              /*blocking=*/false));
  r.add(route(d, "GET", "/data-selections/{id}/files/{path...}", api::browse_data_selection));
  r.add(route(d, "GET", "/runs/{run_id}", api::get_run));
  r.add(route(d, "POST", "/runs/{run_id}/cancel", api::cancel_run));
  r.add(route(d, "GET", "/runs/{run_id}/logs", api::run_logs));
  r.add(route(d, "GET", "/runs/{run_id}/events", api::run_events));
  r.add(route(d, "GET", "/output-data/{prefix...}", api::browse_outputs));
  r.add(route(d, "PUT", "/output-data/{prefix...}", api::update_output_metadata));
  r.add(route(d, "GET", "/files/{provider}/{bucket}/{key...}", api::serve_signed_file, Auth::kNone));
  // The tiler (TiTiler's /cog paths). Map libraries fetch without a token: a grant in the
  // URL authorizes instead (raster_access.h), so a token is optional here.
  const auto tiles = Auth::kOptional;
  r.add(route(d, "GET", "/cog/info", api::cog_info, tiles));
  r.add(route(d, "GET", "/cog/info.geojson", api::cog_info, tiles));
  r.add(route(d, "GET", "/cog/statistics", api::cog_statistics, tiles));
  r.add(route(d, "GET", "/cog/point/{lonlat}", api::cog_point, tiles));
  r.add(route(d, "GET", "/cog/tiles/{tms}/{z}/{x}/{y}", api::cog_tile, tiles));
  r.add(route(d, "GET", "/cog/{tms}/tilejson.json", api::cog_tilejson, tiles));
  r.add(route(d, "GET", "/cog/{tms}/map.html", api::cog_map, tiles));
  r.add(route(d, "GET", "/cog/preview", api::cog_preview, tiles));
  for (const char* format : {"png", "pngraw", "jpeg", "jpg", "webp", "tif", "tiff", "npy"}) {
    r.add(route(d, "GET", std::string("/cog/preview.") + format, api::cog_preview, tiles));
  }
  r.add(route(d, "GET", "/cog/preview/{size}", api::cog_preview, tiles));
  r.add(route(d, "GET", "/cog/bbox/{bbox}", api::cog_bbox, tiles));
  r.add(route(d, "GET", "/cog/bbox/{bbox}/{size}", api::cog_bbox, tiles));
  // Deep zoom (DZI, IIIF): the same authorization, the file named inside the path.
  r.add(route(d, "GET", "/deepzoom", api::deepzoom_links, tiles));
  r.add(route(d, "GET", "/dzi/{file}", api::dzi_descriptor, tiles));
  r.add(route(d, "GET", "/dzi/{files}/{level}/{tile}", api::dzi_tile, tiles));
  r.add(route(d, "GET", "/iiif/{id}", api::iiif_base, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/iiif/{id}/info.json", api::iiif_info, tiles));
  r.add(route(d, "GET", "/iiif/{id}/{region}/{size}/{rotation}/{quality}", api::iiif_image, tiles));
  r.add(route(d, "GET", "/tileMatrixSets", api::tile_matrix_sets, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/tileMatrixSets/{tms}", api::tile_matrix_set, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/healthz", api::healthz, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/readyz", api::readyz, Auth::kNone));
  r.add(route(d, "GET", "/metrics", api::metrics, Auth::kNone));
  r.add(route(d, "GET", "/openapi.json", api::openapi, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/docs", api::docs, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/static/{path...}", api::static_asset, Auth::kNone, /*blocking=*/false));
  // The web app: "/" and "/ui" lead to it; any path below /ui/ is its page.
  r.add(route(d, "GET", "/", api::webapp_redirect, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/ui", api::webapp_redirect, Auth::kNone, /*blocking=*/false));
  r.add(route(d, "GET", "/ui/{path...}", api::webapp_page, Auth::kNone, /*blocking=*/false));
}

}  // namespace scigate
