// Staged outputs: browsing (JSON or HTML), metadata sidecars, and the presigned file
// links that scigate serves itself for `type: file` providers.
#include <algorithm>

#include "api/bodies.h"
#include "api/browse.h"
#include "api/common.h"
#include "api/sidecar.h"
#include "core/json_util.h"
#include "core/key_path.h"

namespace json = boost::json;

namespace scigate {
namespace api {

namespace {

// The caller's output path (relative to staging.prefix): the tail of the URL, which must
// lie under the caller's own root "{username}/". Empty = the root itself.
Result<RelativeKey> own_output_path(const RequestContext& ctx, const Request& req) {
  auto key = parse_relative_key(req.tail);
  if (!key) return key.error();
  if (key->path.empty()) return RelativeKey{ctx.username, true};
  std::string first = key->path.substr(0, key->path.find('/'));
  if (first != ctx.username) return Error::forbidden("outputs of other users are not accessible");
  return key;
}

// The whole file (200) or the one byte range the request asks for (206, or 416 when it
// lies past the end). A Range with If-Range is served whole: scigate has no validator to
// compare, and the RFC says to send everything then.
Response file_response(const RequestContext& ctx, const Request& req, const std::filesystem::path& path,
                       std::shared_ptr<ByteSource> whole, std::string content_type) {
  uint64_t size = whole->size();
  RangeRequest range;
  if (req.header("if-range").empty()) range = parse_range(req.header("range"), size);
  if (range.kind == RangeRequest::kUnsatisfiable) {
    return fail(ctx, {ErrorCode::kRangeNotSatisfiable, "range not satisfiable", "requested range not satisfiable"})
        .with_header("Content-Range", "bytes */" + std::to_string(size));
  }
  if (range.kind == RangeRequest::kWhole)
    return Response::streamed(200, std::move(whole), std::move(content_type)).with_header("Accept-Ranges", "bytes");
  auto part = open_file_range(path, range.first, range.last - range.first + 1);
  if (!part) return fail(ctx, part.error());
  return Response::streamed(206, std::move(part).value(), std::move(content_type))
      .with_header("Accept-Ranges", "bytes")
      .with_header("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                                        std::to_string(size));
}

}  // namespace

Response browse_outputs(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto key = own_output_path(ctx, req);
  if (!key) return fail(ctx, key.error());
  return browse(ctx, req,
                BrowseSpec{d.staging, d.config.staging.bucket, d.config.staging.prefix, key->path, key->is_folder,
                           key->path == ctx.username, d.config.server.public_url + "/output-data/",
                           d.config.staging.presign_ttl, true});
}

Response browse_data_selection(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto sel = resolve_data_selection(d, ctx.username, req.path_params.at("id"));
  if (!sel) return fail(ctx, sel.error());
  auto key = parse_relative_key(req.tail);
  if (!key) return fail(ctx, key.error());
  auto store = d.stores.find(sel->collection->provider);
  if (store == d.stores.end()) return fail(ctx, Error::internal_error("no store for " + sel->collection->provider));
  return browse(
      ctx, req,
      BrowseSpec{*store->second, sel->collection->bucket, sel->prefix(), key->path, key->is_folder, key->path.empty(),
                 d.config.server.public_url + "/data-selections/" + percent_encode(req.path_params.at("id"), false) +
                     "/files/",
                 d.config.staging.presign_ttl, false});
}

Response update_output_metadata(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto key = own_output_path(ctx, req);
  if (!key) return fail(ctx, key.error());
  auto files = parse_metadata_update(req.body);
  if (!files) return fail(ctx, files.error());
  std::string folder_key = d.config.staging.prefix + key->path + "/";
  for (const auto& [name, props] : *files) {
    auto info = d.staging.head(d.config.staging.bucket, folder_key + name);
    if (!info) {
      if (info.error().code == ErrorCode::kNotFound) return fail(ctx, Error::not_found("no such file: " + name));
      return fail(ctx, info.error());
    }
  }
  json::array updated;
  for (const auto& [name, props] : *files) {
    std::string section = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    auto st = d.staging.put(d.config.staging.bucket, folder_key + name + std::string(kSidecarSuffix),
                            write_sidecar(section, props));
    if (!st) return fail(ctx, st.error());
    updated.push_back(json::string(name));
  }
  return Response::json(200, json::object{{"updated", std::move(updated)}});
}

Response serve_signed_file(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto store = d.stores.find(req.path_params.at("provider"));
  const SignedLinkServer* links = store == d.stores.end() ? nullptr : store->second->signed_links();
  if (!links) return fail(ctx, Error::not_found("no such file"));
  auto key = parse_relative_key(req.tail);
  if (!key) return fail(ctx, key.error());
  if (key->path.empty() || key->is_folder) return fail(ctx, Error::not_found("no such file"));
  auto file = links->open_signed(req.path_params.at("bucket"), key->path, req.query_param("expires"),
                                 req.query_param("sig"), ctx.now);
  if (!file) return fail(ctx, file.error());
  auto whole = open_file_range(file->path);
  if (!whole) return fail(ctx, whole.error());
  return file_response(ctx, req, file->path, std::move(whole).value(), content_type_for(key->path))
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("Cache-Control", "private, max-age=60");
}

}  // namespace api
}  // namespace scigate
