#include "storage/s3_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <thread>

#include "core/key_path.h"
#include "storage/atomic_file.h"
#include "storage/s3_xml.h"

namespace fs = std::filesystem;

namespace scigate {

namespace {

constexpr auto kMaxBackoff = std::chrono::milliseconds(2'000);
constexpr auto kBaseBackoff = std::chrono::milliseconds(100);

bool retryable_status(int status) { return status == 500 || status == 502 || status == 503 || status == 504; }

std::string encoded_query(const HeaderList& query) {
  std::string out;
  for (const auto& [k, v] : query)
    out += (out.empty() ? "" : "&") + percent_encode(k, false) + "=" + percent_encode(v, false);
  return out;
}

SystemTime parse_http_date(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// SigV4 signs the payload's hash, so a body streamed from a file is read twice: once here,
// in chunks, and once as it is sent.
Result<std::string> sha256_hex_of(const FileRange& range) {
  constexpr size_t kChunk = 1 << 20;
  std::ifstream in(range.path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(range.offset));
  std::string buffer(static_cast<size_t>(std::min<uint64_t>(kChunk, range.length)), '\0');
  Sha256 hash;
  for (uint64_t left = range.length; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), left));
    if (!in.read(buffer.data(), static_cast<std::streamsize>(n))) {
      return Error::internal_error("cannot read " + range.path.string());
    }
    hash.update(std::string_view(buffer.data(), n));
    left -= n;
  }
  return hash.hex_digest();
}

}  // namespace

S3ObjectStore::S3ObjectStore(std::string provider, S3ProviderConfig config,
                             std::shared_ptr<CredentialsProvider> credentials, std::shared_ptr<UpstreamClient> http,
                             Clock clock)
    : provider_(std::move(provider)),
      config_(std::move(config)),
      credentials_(std::move(credentials)),
      http_(std::move(http)),
      signer_(config_.region, "s3", SigningOptions{false, true, false}),
      clock_(std::move(clock)) {}

S3ObjectStore::Address S3ObjectStore::address(const std::string& bucket, const std::string& key) const {
  std::string base = config_.endpoint.empty() ? "https://s3." + config_.region + ".amazonaws.com" : config_.endpoint;
  Address a;
  if (config_.path_style) {
    a.base = base;
    a.path = "/" + bucket + "/" + key;
  } else {
    a.base = base.substr(0, base.find("://") + 3) + bucket + "." + url_origin(base).authority;
    a.path = "/" + key;
  }
  a.host = url_origin(a.base).authority;
  return a;
}

Error S3ObjectStore::provider_error(Error e) const {
  switch (e.code) {
    case ErrorCode::kUnavailable:
      e.client = "storage provider '" + provider_ + "' is unreachable";
      break;
    case ErrorCode::kUpstreamTimeout:
      e.client = "storage provider '" + provider_ + "' timed out";
      break;
    case ErrorCode::kUpstreamFailed:
      if (e.client.find(provider_) == std::string::npos) e.client = "storage provider '" + provider_ + "' failed";
      break;
    default:
      break;
  }
  e.internal = "provider " + provider_ + ": " + e.internal;
  return e;
}

Error S3ObjectStore::error_from(const UpstreamResponse& r, const Call& call) const {
  auto [code, message] = parse_s3_error(r.body);
  if (code.empty()) code = "HTTP " + std::to_string(r.status);
  std::string internal = call.method + " " + call.bucket + "/" + call.key + ": " + std::to_string(r.status) + " " +
                         code + (message.empty() ? "" : " (" + message + ")");
  if (r.status == 404) {
    return Error{ErrorCode::kNotFound, internal, code == "NoSuchBucket" ? "no such bucket" : "no such object"};
  }
  if (r.status == 416) return Error{ErrorCode::kBadRequest, internal, "range not satisfiable"};
  if (r.status == 403) {
    return Error{ErrorCode::kUpstreamFailed, internal,
                 "storage provider '" + provider_ + "' refused access (" + code + ")"};
  }
  if (r.status == 503)
    return Error{ErrorCode::kUnavailable, internal, "storage provider '" + provider_ + "' is busy (" + code + ")"};
  return Error{ErrorCode::kUpstreamFailed, internal, "storage provider '" + provider_ + "' failed (" + code + ")"};
}

Result<UpstreamResponse> S3ObjectStore::attempt(const Call& c, const AwsCredentials& creds) const {
  Address a = address(c.bucket, c.key);
  SignableRequest sr;
  sr.method = c.method;
  sr.path = a.path;
  sr.query = c.query;
  sr.headers = c.headers;
  sr.headers.emplace_back("Host", a.host);
  sr.payload_hash = c.body_file ? c.body_file_hash : sha256_hex(c.body);
  signer_.sign(sr, creds, clock_());
  UpstreamRequest req;
  req.method = c.method;
  req.url = a.base + percent_encode(a.path, true);
  if (!c.query.empty()) req.url += "?" + encoded_query(c.query);
  req.headers = std::move(sr.headers);
  req.body = c.body;
  req.response_file = c.response_file;
  req.timeout = c.long_transfer ? std::chrono::milliseconds(0) : config_.request_timeout;
  return c.body_file ? http_->send(req, *c.body_file) : http_->send(req);
}

Result<UpstreamResponse> S3ObjectStore::call(const Call& c) const {
  auto creds = credentials_->current();
  if (!creds) return creds.error();
  for (int attempt_no = 0;; ++attempt_no) {
    auto r = attempt(c, **creds);
    bool last = attempt_no >= config_.max_retries;
    if (!r) {
      bool transient = r.error().code == ErrorCode::kUnavailable || r.error().code == ErrorCode::kUpstreamTimeout;
      if (!transient || last) return provider_error(r.error());
    } else if (r->status >= 200 && r->status < 300) {
      return r;
    } else {
      bool slow_down = r->body.find("<Code>SlowDown</Code>") != std::string::npos;
      if (!(retryable_status(r->status) || slow_down) || last) return error_from(*r, c);
    }
    auto wait = jittered_backoff(attempt_no, kBaseBackoff, kMaxBackoff);
    spdlog::debug("provider {}: retrying {} {} in {} ms", provider_, c.method, c.bucket, wait.count());
    std::this_thread::sleep_for(wait);
  }
}

Result<ListPage> S3ObjectStore::list(const ListRequest& req) {
  Call c{.bucket = req.bucket};
  c.query = {
      {"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(std::clamp(req.max_keys, 1, 1000))}};
  if (!req.prefix.empty()) c.query.emplace_back("prefix", req.prefix);
  if (!req.delimiter.empty()) c.query.emplace_back("delimiter", req.delimiter);
  if (!req.continuation_token.empty()) c.query.emplace_back("continuation-token", req.continuation_token);
  auto r = call(c);
  if (!r) return r.error();
  auto page = parse_list_objects_v2(r->body);
  if (!page) return provider_error(page.error());
  return page;
}

Result<ObjectInfo> S3ObjectStore::head(const std::string& bucket, const std::string& key) {
  Call c{.method = "HEAD", .bucket = bucket, .key = key};
  auto r = call(c);
  if (!r) return r.error();
  ObjectInfo info;
  info.key = key;
  info.size = std::strtoull(r->header("content-length").c_str(), nullptr, 10);
  info.modified = parse_http_date(r->header("last-modified"));
  info.etag = unquote_etag(r->header("etag"));
  return info;
}

Result<std::string> S3ObjectStore::get(const std::string& bucket, const std::string& key,
                                       std::optional<ByteRange> range) {
  Call c{.bucket = bucket, .key = key, .long_transfer = true};
  if (range) {
    c.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->first) + "-" + (range->last ? std::to_string(*range->last) : ""));
  }
  auto r = call(c);
  if (!r) return r.error();
  return std::move(r->body);
}

Status S3ObjectStore::get_to_file(const std::string& bucket, const std::string& key, const fs::path& destination) {
  return write_file_atomically(destination, [&](const fs::path& tmp) -> Status {
    Call c{.bucket = bucket, .key = key, .response_file = tmp, .long_transfer = true};
    auto r = call(c);
    if (!r) return r.error();
    return ok_status();
  });
}

Status S3ObjectStore::put(const std::string& bucket, const std::string& key, std::string_view data) {
  Call c{.method = "PUT", .bucket = bucket, .key = key, .body = std::string(data), .long_transfer = true};
  auto r = call(c);
  if (!r) return r.error();
  return ok_status();
}

Status S3ObjectStore::put_file(const std::string& bucket, const std::string& key, const fs::path& source) {
  std::error_code ec;
  uint64_t size = fs::file_size(source, ec);
  if (ec) return Error::internal_error("cannot stat " + source.string() + ": " + ec.message());
  if (size > config_.multipart_threshold) return put_multipart(bucket, key, source, size);
  auto r = put_range(Call{.method = "PUT", .bucket = bucket, .key = key, .long_transfer = true}, {source, 0, size});
  if (!r) return r.error();
  return ok_status();
}

Result<UpstreamResponse> S3ObjectStore::put_range(Call c, FileRange range) const {
  auto hash = sha256_hex_of(range);
  if (!hash) return hash.error();
  c.body_file = std::move(range);
  c.body_file_hash = std::move(hash).value();
  return call(c);
}

Status S3ObjectStore::put_multipart(const std::string& bucket, const std::string& key, const fs::path& source,
                                    uint64_t size) {
  Call create{.method = "POST", .bucket = bucket, .key = key, .query = {{"uploads", ""}}};
  auto created = call(create);
  if (!created) return created.error();
  std::string upload_id = parse_upload_id(created->body);
  if (upload_id.empty()) return provider_error(Error{ErrorCode::kUpstreamFailed, "no UploadId in response", ""});
  auto abort = [&](Error e) -> Status {
    Call a{.method = "DELETE", .bucket = bucket, .key = key, .query = {{"uploadId", upload_id}}};
    (void)call(a);
    return e;
  };
  std::string complete = "<CompleteMultipartUpload>";
  int part = 1;
  for (uint64_t offset = 0; offset < size; offset += config_.part_size, ++part) {
    Call up{.method = "PUT",
            .bucket = bucket,
            .key = key,
            .query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}},
            .long_transfer = true};
    auto r = put_range(std::move(up), {source, offset, std::min<uint64_t>(config_.part_size, size - offset)});
    if (!r) return abort(r.error());
    complete +=
        "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + r->header("etag") + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  Call done{.method = "POST",
            .bucket = bucket,
            .key = key,
            .query = {{"uploadId", upload_id}},
            .headers = {{"Content-Type", "application/xml"}},
            .body = complete,
            .long_transfer = true};
  auto r = call(done);
  if (!r) return abort(r.error());
  // S3 may answer 200 with an <Error> body when completion fails late.
  if (r->body.find("<Error>") != std::string::npos) return abort(error_from(UpstreamResponse{500, {}, r->body}, done));
  return ok_status();
}

Status S3ObjectStore::remove(const std::string& bucket, const std::string& key) {
  Call c{.method = "DELETE", .bucket = bucket, .key = key};
  auto r = call(c);
  if (!r) return r.error();
  return ok_status();
}

Status S3ObjectStore::create_bucket(const std::string& bucket) {
  Call c{.method = "PUT", .bucket = bucket};
  auto r = call(c);
  if (!r && r.error().internal.find("BucketAlreadyOwnedByYou") == std::string::npos) return r.error();
  return ok_status();
}

Result<std::string> S3ObjectStore::presign_get(const std::string& bucket, const std::string& key,
                                               std::chrono::milliseconds ttl) {
  auto creds = credentials_->current();
  if (!creds) return creds.error();
  auto now = clock_();
  auto limit = std::min(ttl, config_.max_presign_ttl);
  // A link may not outlive the credentials that signed it.
  if ((*creds)->expiration)
    limit = std::min(limit, std::chrono::duration_cast<std::chrono::milliseconds>(*(*creds)->expiration - now));
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(limit);
  if (seconds.count() < 1)
    return Error{ErrorCode::kUnavailable, "credentials about to expire",
                 "storage provider '" + provider_ + "' credentials are about to expire"};
  Address a = address(bucket, key);
  SignableRequest sr;
  sr.method = "GET";
  sr.path = a.path;
  sr.headers = {{"Host", a.host}};
  sr.payload_hash = std::string(kUnsignedPayload);
  signer_.presign(sr, **creds, now, seconds);
  return a.base + percent_encode(a.path, true) + "?" + encoded_query(sr.query);
}

}  // namespace scigate
