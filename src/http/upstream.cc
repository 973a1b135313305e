#include "http/upstream.h"

#include <curl/curl.h>

#include <cstdio>
#include <fstream>

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

Result<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& req) const {
  CURL* curl = static_cast<CURL*>(acquire());
  if (curl == nullptr) return Error::internal_error("curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache, drops the previous call's options
  UpstreamResponse resp;
  std::FILE* file = nullptr;
  if (req.response_file) {
    file = std::fopen(req.response_file->c_str(), "wb");
    if (!file) {
      release(curl);
      return Error::internal_error("cannot write " + req.response_file->string());
    }
  }
  Sink sink{&resp.body, file, &resp.headers, &resp.status};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!req.body.empty() || req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (file) std::fclose(file);
  release(curl);
  if (rc != CURLE_OK) {
    if (req.response_file) std::remove(req.response_file->c_str());
    return transport_error(rc, req.url, error);
  }
  return resp;
}

}  // namespace scigate
