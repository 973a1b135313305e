#include "api/browse.h"

#include <algorithm>
#include <set>

#include "api/html.h"
#include "api/sidecar.h"
#include "core/key_path.h"
#include "core/utf8.h"

namespace json = boost::json;

namespace scigate::api {

namespace {

json::object properties(ObjectStore& store, const std::string& bucket, const std::string& key) {
  json::object props;
  auto text = store.get(bucket, key);
  if (!text) return props;
  for (auto& [k, v] : read_sidecar(*text)) props[k] = v;
  return props;
}

std::string folder_path(const std::string& rel) { return rel.empty() ? "" : rel + "/"; }

Result<json::object> listing(const BrowseSpec& s, const ListPage& page, const std::string& folder_key) {
  std::set<std::string> keys;
  for (const auto& o : page.objects) keys.insert(o.key);
  json::array folders, files;
  for (const auto& cp : page.common_prefixes) {
    if (!valid_utf8(cp)) continue;  // a local folder name no URL or JSON can carry
    std::string name = cp.substr(folder_key.size(), cp.size() - folder_key.size() - 1);
    std::string path = join_key(s.rel, name) + "/";
    folders.push_back(json::object{{"name", name}, {"path", path}, {"url", s.url_base + percent_encode(path)}});
  }
  for (const auto& o : page.objects) {
    bool is_sidecar = s.with_properties && std::string_view(o.key).ends_with(kSidecarSuffix) &&
                      keys.count(o.key.substr(0, o.key.size() - kSidecarSuffix.size()));
    if (is_sidecar || !valid_utf8(o.key)) continue;
    auto href = s.store.presign_get(s.bucket, o.key, s.ttl);
    if (!href) return href.error();
    std::string name = o.key.substr(folder_key.size());
    json::object file{{"name", name},
                      {"path", join_key(s.rel, name)},
                      {"size", o.size},
                      {"last_modified", format_iso8601(o.modified)},
                      {"href", *href}};
    if (s.with_properties) {
      std::string sidecar = o.key + std::string(kSidecarSuffix);
      file["properties"] = keys.count(sidecar) ? properties(s.store, s.bucket, sidecar) : json::object{};
    }
    files.push_back(std::move(file));
  }
  json::object out{{"prefix", folder_path(s.rel)}, {"folders", std::move(folders)}, {"files", std::move(files)}};
  out["next_cursor"] = page.next_token.empty() ? json::value(nullptr) : json::value(json::string(page.next_token));
  if (!page.next_token.empty()) {
    out["next_url"] =
        s.url_base + percent_encode(folder_path(s.rel)) + "?cursor=" + percent_encode(page.next_token, false);
  }
  return out;
}

// The first bytes of one file, read here with the store's credentials: the web app's
// previews cannot fetch a presigned S3 link (not in its connect-src, and buckets have no
// CORS for it). Attachment + nosniff: opened by navigation it is a download, never a page.
Response preview(const RequestContext& ctx, const BrowseSpec& s) {
  auto info = s.rel.empty() || s.rel_is_folder ? Result<ObjectInfo>(Error::not_found(""))
                                               : s.store.head(s.bucket, s.root_prefix + s.rel);
  if (!info) {
    if (info.error().code != ErrorCode::kNotFound) return fail(ctx, info.error());
    return fail(ctx, Error::not_found("no such file: " + s.rel));
  }
  std::string bytes;
  if (info->size > 0) {
    auto head = s.store.get(s.bucket, info->key, ByteRange{0, std::min(info->size, kPreviewBytes) - 1});
    if (!head) return fail(ctx, head.error());
    bytes = std::move(head).value();
    if (bytes.size() > kPreviewBytes) bytes.resize(kPreviewBytes);  // a store that ignored the range
  }
  return Response::text(200, std::move(bytes), content_type_for(s.rel))
      .with_header("X-File-Size", std::to_string(info->size))
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("Content-Disposition", "attachment")
      .with_header("Cache-Control", "private");
}

}  // namespace

std::string content_type_for(const std::string& key) {
  static const std::pair<const char*, const char*> kTypes[] = {{".png", "image/png"},
                                                               {".jpg", "image/jpeg"},
                                                               {".jpeg", "image/jpeg"},
                                                               {".tif", "image/tiff"},
                                                               {".tiff", "image/tiff"},
                                                               {".json", "application/json"},
                                                               {".txt", "text/plain; charset=utf-8"},
                                                               {".csv", "text/csv"},
                                                               {".cfg", "text/plain; charset=utf-8"},
                                                               {".log", "text/plain; charset=utf-8"},
                                                               {".pgm", "image/x-portable-graymap"}};
  for (const auto& [ext, type] : kTypes) {
    if (std::string_view(key).ends_with(ext)) return type;
  }
  return "application/octet-stream";  // never text/html: a staged file must not run script on our origin
}

Response browse(const RequestContext& ctx, const Request& req, const BrowseSpec& s) {
  if (req.has_query_param("preview")) return preview(ctx, s);
  auto limit = page_limit(req, 1000, 1000);
  if (!limit) return fail(ctx, limit.error());
  std::string folder_key = s.root_prefix + folder_path(s.rel);
  std::string cursor = req.query_param("cursor");
  auto page = s.store.list({s.bucket, folder_key, "/", cursor, *limit});
  if (!page) return fail(ctx, page.error());
  bool empty = page->objects.empty() && page->common_prefixes.empty();
  if (empty && cursor.empty() && !s.empty_ok) {
    // Not a folder: a file is answered with a redirect to its presigned link.
    auto info = s.rel.empty() || s.rel_is_folder ? Result<ObjectInfo>(Error::not_found(""))
                                                 : s.store.head(s.bucket, s.root_prefix + s.rel);
    if (!info) {
      if (info.error().code != ErrorCode::kNotFound) return fail(ctx, info.error());
      return fail(ctx, Error::not_found("no such file or folder: " + s.rel));
    }
    auto href = s.store.presign_get(s.bucket, info->key, s.ttl);
    if (!href) return fail(ctx, href.error());
    return Response::json(302, json::object{{"href", *href}}).with_header("Location", *href);
  }
  auto body = listing(s, *page, folder_key);
  if (!body) return fail(ctx, body.error());
  if (wants_html(req.header("accept"))) {
    return Response::text(200, render_listing_html(*body), "text/html; charset=utf-8");
  }
  return Response::json(200, *body);
}

}  // namespace scigate::api
