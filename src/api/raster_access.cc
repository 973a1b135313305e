#include "api/raster_access.h"

#include <set>

#include "core/key_path.h"

namespace scigate::api {

namespace {

Error not_found() { return Error::not_found("no such raster"); }

// A file (not a folder) path given in a query parameter, already decoded.
Result<std::string> file_path(const std::string& raw, const char* what) {
  auto key = parse_relative_key(percent_encode(raw));
  if (!key) return Error::bad_request(std::string(what) + ": " + key.error().client);
  if (key->path.empty() || key->is_folder) return Error::bad_request(std::string(what) + " must name a file");
  return key->path;
}

struct Located {
  std::string provider;  // empty: any provider that holds the bucket
  std::string bucket;
  std::string key;
};

// url=s3://BUCKET/KEY, or an absolute path under a file provider's root.
Result<Located> parse_url(const ApiDeps& d, const std::string& url) {
  constexpr std::string_view kS3 = "s3://";
  if (url.rfind(kS3, 0) == 0) {
    std::string rest = url.substr(kS3.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0) return Error::bad_request("url must be s3://BUCKET/KEY");
    auto key = file_path(rest.substr(slash + 1), "url");
    if (!key) return key.error();
    return Located{"", rest.substr(0, slash), *key};
  }
  std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  if (!path.empty() && path.front() == '/') {
    for (const auto& [name, p] : d.config.providers) {
      if (!p.file()) continue;
      std::string root = p.file()->root.lexically_normal().string();
      if (!root.ends_with('/')) root += '/';
      if (path.rfind(root, 0) != 0) continue;
      auto rel = file_path(path.substr(root.size()), "url");
      if (!rel) return rel.error();
      size_t slash = rel->find('/');
      if (slash == std::string::npos) return not_found();
      return Located{name, rel->substr(0, slash), rel->substr(slash + 1)};
    }
    return not_found();
  }
  return Error::bad_request("url must be s3://BUCKET/KEY or a path under a file provider's root");
}

// The provider holding `loc`, among the places the caller may read (everything for an
// anonymous caller, whose grant is checked afterwards).
Result<RasterObject> authorize(const ApiDeps& d, const std::string& user, Located loc, const std::string& hint) {
  if (!hint.empty()) {
    if (!loc.provider.empty() && loc.provider != hint) return not_found();
    loc.provider = hint;
  }
  std::set<std::string> providers;
  auto consider = [&](const std::string& provider, const std::string& bucket, const std::string& prefix) {
    if (bucket != loc.bucket || loc.key.rfind(prefix, 0) != 0) return;
    if (!loc.provider.empty() && provider != loc.provider) return;
    providers.insert(provider);
  };
  for (const auto& [id, c] : d.config.collections) {
    if (user.empty() || d.policy.may_use_collection(user, id)) consider(c.provider, c.bucket, c.prefix);
  }
  const auto& staging = d.config.staging;
  consider(staging.provider, staging.bucket, staging.prefix + (user.empty() ? "" : user + "/"));
  if (providers.empty()) return not_found();
  if (providers.size() > 1)
    return Error::bad_request("several providers hold bucket " + loc.bucket + ": add provider=NAME");
  return RasterObject{*providers.begin(), loc.bucket, loc.key};
}

Result<RasterObject> from_data_selection(const ApiDeps& d, const std::string& user, const Request& req) {
  auto sel = user.empty() ? find_data_selection(d, req.query_param("data_selection"))
                          : resolve_data_selection(d, user, req.query_param("data_selection"));
  if (!sel) return sel.error().code == ErrorCode::kNotFound ? not_found() : sel.error();
  auto rel = file_path(req.query_param("path"), "path");
  if (!rel) return rel.error();
  return RasterObject{sel->collection->provider, sel->collection->bucket, sel->prefix() + *rel};
}

Result<RasterObject> from_run(const ApiDeps& d, const std::string& user, const Request& req) {
  auto rel = file_path(req.query_param("path"), "path");
  if (!rel) return rel.error();
  auto run = d.ledger.get(req.query_param("run"));
  if (!run) return run.error().code == ErrorCode::kNotFound ? not_found() : run.error();
  if (!user.empty() && run->username != user) return not_found();
  return RasterObject{d.config.staging.provider, run->output_bucket, run->output_prefix + *rel};
}

}  // namespace

Result<RasterObject> resolve_raster_object(const ApiDeps& d, const std::string& user, const Request& req) {
  int ways = req.has_query_param("url") + req.has_query_param("data_selection") + req.has_query_param("run");
  if (ways != 1)
    return Error::bad_request("name the raster with exactly one of url, data_selection (with path) or run (with path)");
  if (req.has_query_param("data_selection")) return from_data_selection(d, user, req);
  if (req.has_query_param("run")) return from_run(d, user, req);
  auto loc = parse_url(d, req.query_param("url"));
  if (!loc) return loc.error();
  return authorize(d, user, std::move(loc).value(), req.query_param("provider"));
}

Result<AuthorizedRaster> authorize_raster(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  AuthorizedRaster out;
  const bool anonymous = ctx.username.empty();
  if (anonymous && !req.has_query_param("grant")) {
    return Error::unauthenticated("a bearer token or a grant is required");
  }
  auto object = resolve_raster_object(d, ctx.username, req);
  if (!object) {
    // Without a token, "no such file" must not be told apart from "not your file": both
    // are a grant that is not valid for what the URL names.
    if (anonymous && object.error().code == ErrorCode::kNotFound) return Error::forbidden("invalid grant");
    return object.error();
  }
  if (anonymous) {
    out.grant = req.query_param("grant");
    if (auto s = check_grant(d.grant_signer, *object, out.grant, ctx.now); !s) return s.error();
  }
  out.object = std::move(object).value();
  return out;
}

Result<OpenedRaster> open_raster(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto authorized = authorize_raster(d, ctx, req);
  if (!authorized) return authorized.error();
  auto reader = d.rasters.open(authorized->object.provider, authorized->object.bucket, authorized->object.key);
  if (!reader) {
    if (reader.error().code == ErrorCode::kNotFound) return Error::not_found("no such raster");
    return reader.error();
  }
  return OpenedRaster{std::move(authorized->object), std::move(reader).value(), std::move(authorized->grant)};
}

std::string make_grant(const UrlSigner& signer, const RasterObject& object, SystemTime expires) {
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  return std::to_string(t) + "." + signer.signature(object.grant_scope(), t);
}

Status check_grant(const UrlSigner& signer, const RasterObject& object, const std::string& grant, SystemTime now) {
  size_t dot = grant.find('.');
  if (grant.empty() || dot == std::string::npos) return Error::forbidden("a token or a grant is required");
  return signer.verify(object.grant_scope(), std::string_view(grant).substr(0, dot),
                       std::string_view(grant).substr(dot + 1), now);
}

}  // namespace scigate::api
