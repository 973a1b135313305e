#include "storage/local_store.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

#include "core/key_path.h"

namespace fs = std::filesystem;

namespace scigate {

namespace {

bool safe_segment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c == '\\' || c < 0x20 || c == 0x7f; });
}

bool safe_key(std::string_view key) {
  if (key.empty()) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    if (!safe_segment(key.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

bool is_temp_name(const fs::path& p) { return p.filename().string().rfind(kTempPrefix, 0) == 0; }

SystemTime to_system(fs::file_time_type t) {
  return std::chrono::time_point_cast<SystemTime::duration>(std::chrono::file_clock::to_sys(t));
}

ObjectInfo info_for(const fs::path& p, std::string key) {
  ObjectInfo info;
  info.key = std::move(key);
  std::error_code ec;
  info.size = fs::file_size(p, ec);
  info.modified = to_system(fs::last_write_time(p, ec));
  std::ostringstream etag;
  etag << std::hex << info.size << "-" << to_unix_micros(info.modified);
  info.etag = etag.str();
  return info;
}

Error io_error(const std::string& what, const fs::path& p, const std::error_code& ec) {
  return Error::internal_error(what + " " + p.string() + ": " + ec.message());
}

// One listing entry: an object or a common prefix, ordered together as S3 does.
struct Entry {
  std::string key;
  fs::path path;
  bool is_prefix;
};

}  // namespace

LocalObjectStore::LocalObjectStore(std::string provider, fs::path root, std::string public_url, std::string signing_key)
    : provider_(std::move(provider)),
      root_(std::move(root)),
      public_url_(std::move(public_url)),
      signer_(signing_key.empty() ? random_hex(32) : std::move(signing_key)) {}

Result<fs::path> LocalObjectStore::object_path(const std::string& bucket, const std::string& key) const {
  if (!safe_segment(bucket) || bucket.find('/') != std::string::npos) return Error::bad_request("invalid bucket name");
  if (!safe_key(key)) return Error::bad_request("invalid object key");
  return root_ / bucket / key;
}

Result<ListPage> LocalObjectStore::list(const ListRequest& req) {
  if (!safe_segment(req.bucket) || req.bucket.find('/') != std::string::npos)
    return Error::bad_request("invalid bucket name");
  std::string dir_part =
      req.prefix.substr(0, req.prefix.rfind('/') == std::string::npos ? 0 : req.prefix.rfind('/') + 1);
  if (!dir_part.empty() && !safe_key(std::string_view(dir_part).substr(0, dir_part.size() - 1))) {
    return Error::bad_request("invalid prefix");
  }
  fs::path base = root_ / req.bucket;
  fs::path start = base / dir_part;
  std::vector<Entry> entries;
  std::error_code ec;
  if (fs::is_directory(start, ec)) {
    if (req.delimiter == "/") {
      for (const auto& de : fs::directory_iterator(start, ec)) {
        if (is_temp_name(de.path())) continue;
        std::string key = dir_part + de.path().filename().string();
        if (key.rfind(req.prefix, 0) != 0) continue;
        if (de.is_directory())
          entries.push_back({key + "/", de.path(), true});
        else if (de.is_regular_file())
          entries.push_back({key, de.path(), false});
      }
    } else {
      for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (!it->is_regular_file() || is_temp_name(it->path())) continue;
        std::string key = it->path().lexically_relative(base).generic_string();
        if (key.rfind(req.prefix, 0) == 0) entries.push_back({key, it->path(), false});
      }
    }
    if (ec) return io_error("cannot list", start, ec);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  auto first = entries.begin();
  if (!req.continuation_token.empty()) {
    first = std::upper_bound(entries.begin(), entries.end(), req.continuation_token,
                             [](const std::string& t, const Entry& e) { return t < e.key; });
  }
  ListPage page;
  int max_keys = std::clamp(req.max_keys, 1, 1000);
  int taken = 0;
  for (auto it = first; it != entries.end(); ++it) {
    if (taken == max_keys) {
      page.next_token = std::prev(it)->key;
      break;
    }
    if (it->is_prefix)
      page.common_prefixes.push_back(it->key);
    else
      page.objects.push_back(info_for(it->path, it->key));
    ++taken;
  }
  return page;
}

Result<ObjectInfo> LocalObjectStore::head(const std::string& bucket, const std::string& key) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  std::error_code ec;
  if (!fs::is_regular_file(*p, ec)) return Error::not_found("no such object: " + key);
  return info_for(*p, key);
}

Result<std::string> LocalObjectStore::get(const std::string& bucket, const std::string& key,
                                          std::optional<ByteRange> range) {
  auto info = head(bucket, key);
  if (!info) return info.error();
  auto p = object_path(bucket, key);
  std::ifstream in(*p, std::ios::binary);
  if (!in) return Error::internal_error("cannot open " + p->string());
  uint64_t first = range ? range->first : 0;
  uint64_t last = (range && range->last) ? std::min(*range->last, info->size - 1) : info->size - 1;
  if (info->size == 0) return std::string();
  if (first >= info->size || first > last)
    return Error{ErrorCode::kBadRequest, "range not satisfiable", "range not satisfiable"};
  std::string data(last - first + 1, '\0');
  in.seekg(static_cast<std::streamoff>(first));
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) return Error::internal_error("short read from " + p->string());
  return data;
}

Status LocalObjectStore::get_to_file(const std::string& bucket, const std::string& key, const fs::path& destination) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  std::error_code ec;
  if (!fs::is_regular_file(*p, ec)) return Error::not_found("no such object: " + key);
  return write_file_atomically(destination, [&](const fs::path& tmp) -> Status {
    fs::copy_file(*p, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return io_error("cannot copy", *p, ec);
    return ok_status();
  });
}

Status LocalObjectStore::put(const std::string& bucket, const std::string& key, std::string_view data) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  return write_file_atomically(*p, [&](const fs::path& tmp) -> Status {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) return Error::internal_error("cannot write " + tmp.string());
    return ok_status();
  });
}

Status LocalObjectStore::put_file(const std::string& bucket, const std::string& key, const fs::path& source) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  return write_file_atomically(*p, [&](const fs::path& tmp) -> Status {
    std::error_code ec;
    fs::copy_file(source, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return io_error("cannot copy", source, ec);
    return ok_status();
  });
}

Status LocalObjectStore::remove(const std::string& bucket, const std::string& key) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  std::error_code ec;
  fs::remove(*p, ec);  // like S3: deleting a missing object succeeds
  if (ec) return io_error("cannot delete", *p, ec);
  return ok_status();
}

// What a link may reach: one object of this provider.
std::string LocalObjectStore::scope(const std::string& bucket, const std::string& key) const {
  return provider_ + "\n" + bucket + "\n" + key;
}

Result<std::string> LocalObjectStore::presign_get(const std::string& bucket, const std::string& key,
                                                  std::chrono::milliseconds ttl) {
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  int64_t expires =
      std::chrono::duration_cast<std::chrono::seconds>((std::chrono::system_clock::now() + ttl).time_since_epoch())
          .count();
  return public_url_ + "/files/" + percent_encode(provider_) + "/" + percent_encode(bucket) + "/" +
         percent_encode(key) + "?expires=" + std::to_string(expires) +
         "&sig=" + signer_.signature(scope(bucket, key), expires);
}

Result<LocalFile> LocalObjectStore::open_signed(const std::string& bucket, const std::string& key,
                                                std::string_view expires, std::string_view sig, SystemTime now) const {
  if (auto st = signer_.verify(scope(bucket, key), expires, sig, now); !st) return st.error();
  auto p = object_path(bucket, key);
  if (!p) return p.error();
  std::error_code ec;
  if (!fs::is_regular_file(*p, ec)) return Error::not_found("no such object");
  return LocalFile{*p, fs::file_size(*p, ec)};
}

}  // namespace scigate
