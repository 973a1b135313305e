// The S3 store every S3 benchmark reads or writes through: a path-style endpoint (radosgw
// on loopback) with fixed keys from the command line, as bench/run-s3 and bench/run-cog
// start it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "credentials/credentials_provider.h"
#include "http_client/upstream.h"
#include "storage/s3_store.h"

namespace scigate::bench {

inline std::shared_ptr<S3ObjectStore> s3_store(const std::string& endpoint, const std::string& access_key,
                                               const std::string& secret_key, size_t part_size = 0) {
  S3ProviderConfig p;
  p.region = "us-east-1";
  p.endpoint = endpoint;
  p.path_style = true;
  if (part_size) p.part_size = part_size;
  auto creds = std::make_shared<StaticCredentials>(AwsCredentials{access_key, secret_key, "", std::nullopt});
  return std::make_shared<S3ObjectStore>("bench", p, creds, std::make_shared<UpstreamClient>());
}

}  // namespace scigate::bench
