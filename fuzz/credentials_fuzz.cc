// Answers of the services that hand out S3 credentials: a DAAC's /s3credentials JSON
// (Earthdata), STS AssumeRole and AssumeRoleWithWebIdentity XML, the container and
// instance-metadata JSON, and the Set-Cookie and Location headers of the Earthdata Login
// redirect chain; the AWS JSON 1.1 answers of SSM and Secrets Manager (awsconfig). Each
// input is one answer, handed to every reader.
#include "awsconfig/aws_json.h"
#include "credentials/sources.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scigate;
  std::string body = fuzz::as_string(data, size);
  auto earthdata = parse_earthdata_credentials(body);
  if (earthdata) {
    FUZZ_CHECK(!earthdata->access_key_id.empty() && !earthdata->secret_access_key.empty());
    FUZZ_CHECK(earthdata->expiration.has_value());
  } else {
    FUZZ_CHECK(earthdata.error().code == ErrorCode::kUpstreamFailed && earthdata.error().client.empty());
  }
  for (const char* action : {"AssumeRole", "AssumeRoleWithWebIdentity"}) (void)parse_sts_answer(body, action);
  if (auto md = parse_metadata_credentials(body))
    FUZZ_CHECK(!md->access_key_id.empty() && !md->secret_access_key.empty());

  (void)parse_get_parameter(body);
  if (auto secret = parse_get_secret_value(body)) (void)pick_json_key(*secret, "jwt", "fuzz");
  auto picked = pick_json_key(body, "jwt", "fuzz");
  if (!picked) FUZZ_CHECK(picked.error().code == ErrorCode::kBadRequest);
  auto failure = aws_json_failure("SSM parameter /fuzz", UpstreamResponse{400, {}, body}, "ParameterNotFound");
  FUZZ_CHECK(failure.internal.rfind("SSM parameter /fuzz", 0) == 0);
  auto id = split_secret_id(body);
  FUZZ_CHECK(id.json_key.find('#') == std::string::npos);

  UpstreamResponse r{302, {}, ""};
  size_t start = 0;
  while (start < body.size()) {
    size_t end = std::min(body.find('\n', start), body.size());
    r.headers.emplace_back("set-cookie", body.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& [name, value] : r.cookies()) FUZZ_CHECK(name.find(';') == std::string::npos);
  auto origin = url_origin(body);
  FUZZ_CHECK(origin.authority.size() <= origin.origin.size());
  return 0;
}
