#include "catalog/secret.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scigate {

Secret::~Secret() {
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
}

bool is_secret_reference(const std::string& text) { return text.rfind("env:", 0) == 0 || text.rfind("file:", 0) == 0; }

Result<Secret> resolve_secret(const std::string& reference, const std::filesystem::path& base_dir) {
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
  return Error::bad_request("secrets must be given by reference (env:NAME or file:PATH), not inline");
}

}  // namespace scigate
