// The ObjectStore contract on the local-folder backend. Its presigned links point at
// scigate's own /files endpoint: the anonymous GET is what that endpoint does, through
// the store's SignedLinkServer.
#include <fstream>

#include "contract/object_store_contract.h"
#include "core/key_path.h"
#include "storage/local_store.h"
#include "unit/temp_dir.h"

namespace scigate::contract {
namespace {

constexpr const char* kPublicUrl = "http://gw.test";

// GET {public_url}/files/{provider}/{bucket}/{key}?expires=E&sig=S, as serve_signed_file.
Result<std::string> fetch_local_link(const ObjectStore& store, const std::string& url) {
  std::string prefix = std::string(kPublicUrl) + "/files/" + store.provider_name() + "/";
  size_t query = url.find('?');
  if (url.rfind(prefix, 0) != 0 || query == std::string::npos) return Error::not_found("not a link of this store");
  std::string path;
  if (!percent_decode(std::string_view(url).substr(prefix.size(), query - prefix.size()), path))
    return Error::bad_request("bad escape");
  size_t slash = path.find('/');
  std::string expires, sig;
  for (std::string_view rest = std::string_view(url).substr(query + 1); !rest.empty();) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    if (pair.rfind("expires=", 0) == 0) expires = pair.substr(8);
    if (pair.rfind("sig=", 0) == 0) sig = pair.substr(4);
  }
  const SignedLinkServer* links = store.signed_links();
  if (!links) return Error::not_found("store serves no links");
  auto file =
      links->open_signed(path.substr(0, slash), path.substr(slash + 1), expires, sig, std::chrono::system_clock::now());
  if (!file) return file.error();
  std::ifstream in(file->path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

StoreUnderTest local_store() {
  auto dir = std::make_shared<testing::TempDir>();
  auto store = std::make_shared<LocalObjectStore>("local", dir->path() / "buckets", kPublicUrl, "contract-key");
  return {store, "contract", [store](const std::string& url) { return fetch_local_link(*store, url); }, dir};
}

INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreContract, ::testing::Values(ObjectStoreBackend{"local", local_store}),
                         backend_name);

}  // namespace
}  // namespace scigate::contract
