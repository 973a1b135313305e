// Browsing a folder of an object store as a page of folders and files with presigned
// links: shared by the caller's outputs (/output-data) and data-selection inputs
// (/data-selections/{id}/files).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "api/common.h"

namespace scigate::api {

struct BrowseSpec {
  ObjectStore& store;
  std::string bucket;
  std::string root_prefix;  // key prefix of the browsable area ("" or ending in '/')
  std::string rel;          // validated path under it ("" = the root)
  bool rel_is_folder = true;
  bool empty_ok = false;  // an empty listing is an answer (a root), not a 404
  std::string url_base;   // folder URLs are url_base + encoded path
  std::chrono::milliseconds ttl;
  bool with_properties = false;  // read .cfg sidecars into "properties"
};

// The most bytes of a file that `?preview` answers with.
inline constexpr uint64_t kPreviewBytes = 256 * 1024;

// A page (limit, cursor from the request); a path that names a file answers 302 to its
// presigned link; HTML when the Accept header prefers it. With `?preview` a path naming a
// file answers its first kPreviewBytes instead (X-File-Size = the whole size).
Response browse(const RequestContext& ctx, const Request& req, const BrowseSpec& spec);

// The Content-Type a staged file is served with (never text/html).
std::string content_type_for(const std::string& key);

}  // namespace scigate::api
