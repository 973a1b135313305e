#include "catalog/secret.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace scigate {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

namespace {

constexpr const char* kAwsSecretsManager = "aws-secretsmanager";

Result<Secret> resolve_builtin(const std::string& reference, const std::filesystem::path& base_dir) {
  if (reference.rfind("env:", 0) == 0) {
    std::string name = reference.substr(4);
    const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') {
      return Error::bad_request("environment variable " + name + " is not set");
    }
    return Secret(reference, v);
  }
  if (reference.rfind("file:", 0) == 0) {
    std::filesystem::path p = reference.substr(5);
    if (p.is_relative()) p = base_dir / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) return Error::bad_request("cannot read secret file " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (value.empty()) return Error::bad_request("secret file " + p.string() + " is empty");
    return Secret(reference, std::move(value));
  }
  return Error::bad_request(
      "secrets must be given by reference (env:NAME, file:PATH or aws-secretsmanager:NAME), not inline");
}

}  // namespace

bool is_secret_reference(const std::string& text) {
  return text.rfind("env:", 0) == 0 || text.rfind("file:", 0) == 0 ||
         text.rfind(std::string(kAwsSecretsManager) + ":", 0) == 0;
}

Result<Secret> SecretResolver::resolve(const std::string& reference, const std::filesystem::path& base_dir) const {
  auto colon = reference.find(':');
  std::string scheme = colon == std::string::npos ? "" : reference.substr(0, colon);
  Result<Secret> out = Error::internal_error("unresolved");
  if (auto it = schemes.find(scheme); it != schemes.end()) {
    auto value = it->second(reference.substr(colon + 1));
    if (!value) return value.error();
    if (value->empty()) return Error::bad_request("secret " + reference + " is empty");
    out = Secret(reference, std::move(value).value());
  } else if (scheme == kAwsSecretsManager) {
    return Error::bad_request(reference.substr(0, std::min(reference.size(), size_t{200})) +
                              ": aws-secretsmanager: references cannot be resolved here (no Secrets Manager access "
                              "was given to this config loader)");
  } else {
    out = resolve_builtin(reference, base_dir);
  }
  if (out && observe) observe(reference, out->value());
  return out;
}

Result<Secret> resolve_secret(const std::string& reference, const std::filesystem::path& base_dir) {
  return SecretResolver{}.resolve(reference, base_dir);
}

namespace {

constexpr size_t kKeyBytes = 32;

Status write_new_key(const std::filesystem::path& path) {
  unsigned char raw[kKeyBytes];
  if (RAND_bytes(raw, sizeof raw) != 1) return Error::internal_error("no randomness for a signing key");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  OPENSSL_cleanse(raw, sizeof raw);
  hex.push_back('\n');
  // Written under a temporary name and linked into place: a reader never sees half a
  // key, and of two processes racing, the second link fails and that one reads the first.
  std::filesystem::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::internal_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
  bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(hex.data(), hex.size());
  int linked = written ? ::link(tmp.c_str(), path.c_str()) : -1;
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!written) return Error::internal_error("cannot write " + tmp.string());
  if (linked != 0 && link_errno != EEXIST)
    return Error::internal_error("cannot create " + path.string() + ": " + std::strerror(link_errno));
  return ok_status();
}

}  // namespace

Result<Secret> load_or_create_key_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (auto st = write_new_key(path); !st) return st.error();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Error::bad_request("signing key file " + path.string() + " is readable by other users (chmod 600 it)");
  }
  auto key = resolve_secret("file:" + path.string(), path.parent_path());
  if (!key) return key.error();
  if (key->value().size() < kKeyBytes) return Error::bad_request("signing key file " + path.string() + " is too short");
  return key;
}

}  // namespace scigate
