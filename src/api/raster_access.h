// Which stored object a raster request (tiles, info, DZI, IIIF) names, and whether the
// caller may read it. Three ways to name one, TiTiler's first:
//   url=s3://BUCKET/KEY (or a path under a `type: file` provider's root), optionally with
//       provider=NAME: inside a collection the caller may use, or inside the caller's own
//       staged outputs;
//   data_selection=ID&path=REL: a file of a data selection the caller may use;
//   run=RUN_ID&path=REL: a file of one of the caller's runs' outputs.
// Unknown and not allowed are the same 404, so nothing reveals what exists.
//
// Map libraries fetch tiles without a token: a URL made for an authenticated caller
// carries a grant (UrlSigner over the object's scope and an expiry), checked instead.
#pragma once

#include <string>

#include "api/common.h"
#include "core/url_signer.h"

namespace scigate::api {

struct RasterObject {
  std::string provider;
  std::string bucket;
  std::string key;

  // What a grant for this object covers: this one object, for raster reads only.
  std::string grant_scope() const { return "raster\n" + provider + "\n" + bucket + "\n" + key; }
};

// For an authenticated caller (`user` not empty): resolves and authorizes. For an
// anonymous one: resolves only; the request must then carry a valid grant for the
// result (check_grant), which is the authorization.
Result<RasterObject> resolve_raster_object(const ApiDeps& d, const std::string& user, const Request& req);

// A raster request's file, named and authorized.
struct AuthorizedRaster {
  RasterObject object;
  std::string grant;  // the anonymous caller's grant, carried on into URLs we hand out
};

// open_raster's first steps, for callers that open the file their own way (deep zoom's
// images): resolve_raster_object, then for an anonymous caller check_grant. Failure: as
// open_raster's before the reader.
Result<AuthorizedRaster> authorize_raster(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// A raster request's file, named, authorized and open.
struct OpenedRaster {
  RasterObject object;
  std::shared_ptr<raster::CogReader> reader;
  std::string grant;  // the anonymous caller's grant, carried on into URLs we hand out
};

// What every raster endpoint (tiler, DZI, IIIF) does first: resolve_raster_object, then
// for an anonymous caller check_grant on the `grant` query value, then RasterReaders::open.
// Failure: 401 with neither token nor grant; 403 for a bad grant (also one naming no file,
// so a grant-holder learns nothing); 404 for an unknown or forbidden file; the reader's
// errors ("not a TIFF" 400, provider 503, ...).
Result<OpenedRaster> open_raster(const ApiDeps& d, const RequestContext& ctx, const Request& req);

// The `grant` query value for `object`, valid until `expires`.
std::string make_grant(const UrlSigner& signer, const RasterObject& object, SystemTime expires);
// 403 when the grant is missing, tampered, for another object, or expired.
Status check_grant(const UrlSigner& signer, const RasterObject& object, const std::string& grant, SystemTime now);

}  // namespace scigate::api
