// Prints scigate's presigned GET URL for fixed inputs, so a test can compare it with
// botocore's for the same time, key and credentials.
//   presign_tool ENDPOINT REGION BUCKET KEY ACCESS_KEY SECRET TOKEN UNIX_TIME TTL_SECONDS
#include <iostream>

#include "storage/s3_store.h"

int main(int argc, char** argv) {
  if (argc != 10) {
    std::cerr << "usage: presign_tool ENDPOINT REGION BUCKET KEY ACCESS_KEY SECRET TOKEN UNIX_TIME TTL_SECONDS\n";
    return 2;
  }
  scigate::S3ProviderConfig p;
  p.endpoint = argv[1];
  p.region = argv[2];
  p.path_style = true;
  auto creds =
      std::make_shared<scigate::StaticCredentials>(scigate::AwsCredentials{argv[5], argv[6], argv[7], std::nullopt});
  scigate::SystemTime at(std::chrono::seconds(std::stoll(argv[8])));
  scigate::S3ObjectStore store("tool", p, creds, std::make_shared<scigate::UpstreamClient>(), [at] { return at; });
  auto url = store.presign_get(argv[3], argv[4], std::chrono::seconds(std::stoll(argv[9])));
  if (!url) {
    std::cerr << url.error().internal << "\n";
    return 1;
  }
  std::cout << *url << "\n";
  return 0;
}
