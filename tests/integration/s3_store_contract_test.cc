// The ObjectStore contract on the S3 backend, against radosgw (the CTest fixture in
// tests/peers; RADOSGW_ENV names its endpoint and keys). Each test gets a bucket of its
// own; presigned links are fetched with no credentials at all, as a browser would.
#include "contract/object_store_contract.h"
#include "core/time_util.h"
#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"
#include "peer_env.h"
#include "storage/s3_store.h"

namespace scigate::contract {
namespace {

Result<std::string> fetch_anonymously(const std::string& url) {
  static UpstreamClient http;
  auto r = http.send({"GET", url, {}, "", std::nullopt, std::chrono::seconds(10)});
  if (!r) return r.error();
  if (r->status != 200) return Error{ErrorCode::kForbidden, "GET answered " + std::to_string(r->status), "refused"};
  return std::move(r->body);
}

StoreUnderTest s3_store() {
  auto env = peer_env("RADOSGW_ENV");
  if (env["S3_ENDPOINT"].empty()) return {};
  S3ProviderConfig p;
  p.region = "us-east-1";
  p.endpoint = env["S3_ENDPOINT"];
  p.path_style = true;
  p.max_retries = 1;
  auto creds = std::make_shared<StaticCredentials>(
      AwsCredentials{env["S3_ACCESS_KEY_ID"], env["S3_SECRET_ACCESS_KEY"], "", std::nullopt});
  auto store = std::make_shared<S3ObjectStore>("platform", p, creds, std::make_shared<UpstreamClient>());
  std::string bucket = "contract-" + random_hex(4);
  if (!store->create_bucket(bucket)) return {};
  return {store, bucket, fetch_anonymously, nullptr};
}

INSTANTIATE_TEST_SUITE_P(S3, ObjectStoreContract, ::testing::Values(ObjectStoreBackend{"s3_radosgw", s3_store}),
                         backend_name);

}  // namespace
}  // namespace scigate::contract
