#include "http_client/upstream.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace scigate {

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Sink {
  std::string* body = nullptr;
  std::FILE* file = nullptr;
  UpstreamHeaders* headers = nullptr;
  int* status = nullptr;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->file && *sink->status >= 200 && *sink->status < 300) {
    return std::fwrite(data, 1, bytes, sink->file);
  }
  sink->body->append(data, bytes);
  return bytes;
}

// The body of an upload: a byte range of an open file, handed to curl chunk by chunk.
struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using UniqueFile = std::unique_ptr<std::FILE, CloseFile>;

struct FileSource {
  UniqueFile file;
  uint64_t offset = 0;  // of the range in the file
  uint64_t length = 0;
  uint64_t sent = 0;  // position within the range
  bool short_read = false;
};

FileSource open_source(const FileRange& range) {
  FileSource s;
  s.file.reset(std::fopen(range.path.c_str(), "rb"));
  s.offset = range.offset;
  s.length = range.length;
  if (s.file && fseeko(s.file.get(), static_cast<off_t>(range.offset), SEEK_SET) != 0) s.file.reset();
  return s;
}

size_t read_cb(char* buffer, size_t size, size_t n, void* user) {
  auto* s = static_cast<FileSource*>(user);
  size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, s->length - s->sent));
  if (want == 0) return 0;
  size_t got = std::fread(buffer, 1, want, s->file.get());
  if (got == 0) {  // the file shrank since its size was taken: never send a short body
    s->short_read = true;
    return CURL_READFUNC_ABORT;
  }
  s->sent += got;
  return got;
}

// curl rewinds the body when it must send the request again, e.g. when a kept-alive
// connection turns out to have been closed by the server.
int seek_cb(void* user, curl_off_t position, int origin) {
  auto* s = static_cast<FileSource*>(user);
  if (origin != SEEK_SET || position < 0 || static_cast<uint64_t>(position) > s->length) return CURL_SEEKFUNC_CANTSEEK;
  if (fseeko(s->file.get(), static_cast<off_t>(s->offset + position), SEEK_SET) != 0) return CURL_SEEKFUNC_FAIL;
  s->sent = static_cast<uint64_t>(position);
  return CURL_SEEKFUNC_OK;
}

size_t header_cb(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100-continue or a redirect)
    sink->headers->clear();
    size_t sp = line.find(' ');
    *sink->status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  sink->headers->emplace_back(std::move(name), std::string(value));
  return size * n;
}

// The request body: a file range read as it goes, or `req.body` from memory.
void set_body(CURL* curl, const UpstreamRequest& req, FileSource* source) {
  if (req.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (source) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);  // the method stays CUSTOMREQUEST's
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, source);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_cb);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, source);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(source->length));
  } else if (!req.body.empty() || req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
}

// Debian's libcurl has Debian's CA file compiled in, which other systems lack (the Lambda
// package runs it on Amazon Linux): OpenSSL's own variable, when set, names the trust
// store instead, as it does for every OpenSSL client. Read once: getenv is not safe
// against a concurrent setenv.
const char* ca_file_override() {
  static const std::string file = [] {
    const char* v = std::getenv("SSL_CERT_FILE");
    return std::string(v ? v : "");
  }();
  return file.empty() ? nullptr : file.c_str();
}

void set_transfer_options(CURL* curl, const UpstreamRequest& req, Sink& sink, const UpstreamOptions& options) {
  if (const char* ca = ca_file_override()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
}

Error transport_error(CURLcode rc, const std::string& url, const char* detail) {
  std::string internal = "upstream " + url_origin(url).authority + ": " + curl_easy_strerror(rc) +
                         (detail && *detail ? std::string(" (") + detail + ")" : "");
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {ErrorCode::kUnavailable, internal, "upstream unreachable"};
    case CURLE_OPERATION_TIMEDOUT:
      return {ErrorCode::kUpstreamTimeout, internal, "upstream timed out"};
    default:
      return {ErrorCode::kUpstreamFailed, internal, "upstream failed"};
  }
}

}  // namespace

UrlOrigin url_origin(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t host_at = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t end = std::min(url.find_first_of("/?#", host_at), url.size());
  return {std::string(url.substr(0, end)), std::string(url.substr(host_at, end - host_at))};
}

std::string UpstreamResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> UpstreamResponse::cookies() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : headers) {
    if (k != "set-cookie") continue;
    std::string pair = v.substr(0, v.find(';'));
    auto eq = pair.find('=');
    if (eq != std::string::npos) out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
  }
  return out;
}

UpstreamClient::UpstreamClient(UpstreamOptions options) : options_(options) { static CurlGlobal global; }

UpstreamClient::~UpstreamClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* UpstreamClient::acquire() const {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void UpstreamClient::release(void* handle) const {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_handles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& req) const { return perform(req, nullptr); }

Result<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& req, const FileRange& body) const {
  return perform(req, &body);
}

Result<UpstreamResponse> UpstreamClient::perform(const UpstreamRequest& req, const FileRange* body_file) const {
  FileSource source;
  if (body_file) {
    source = open_source(*body_file);
    if (!source.file) return Error::internal_error("cannot read " + body_file->path.string());
  }
  UniqueFile response_file;
  if (req.response_file) {
    response_file.reset(std::fopen(req.response_file->c_str(), "wb"));
    if (!response_file) return Error::internal_error("cannot write " + req.response_file->string());
  }
  CURL* curl = static_cast<CURL*>(acquire());
  if (curl == nullptr) return Error::internal_error("curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache, drops the previous call's options
  UpstreamResponse resp;
  Sink sink{&resp.body, response_file.get(), &resp.headers, &resp.status};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  set_body(curl, req, body_file ? &source : nullptr);
  set_transfer_options(curl, req, sink, options_);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  response_file.reset();
  release(curl);
  if (rc != CURLE_OK) {
    if (req.response_file) std::remove(req.response_file->c_str());
    if (source.short_read)
      return Error::internal_error("cannot read " + body_file->path.string() + ": shorter than announced");
    return transport_error(rc, req.url, error);
  }
  return resp;
}

}  // namespace scigate
