// Credential sources that fetch short-lived S3 credentials from an upstream service.
#pragma once

#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "credentials/rotating.h"
#include "http/upstream.h"

namespace scigate {

// A DAAC's /s3credentials (NASA Earthdata Cloud). With a bearer token: one GET. With a
// username and password: the Earthdata Login redirect dance, followed by hand so that
// the Authorization header goes only to the login host, with cookies kept across the
// chain. Response: {accessKeyId, secretAccessKey, sessionToken, expiration}, where
// expiration is "2021-01-27 00:50:09+00:00" or ISO 8601 with T/Z.
class EarthdataS3Credentials final : public CredentialSource {
 public:
  struct Options {
    std::string url;
    std::string token;  // bearer token, or empty for username/password
    std::string username;
    std::string password;
    std::string login_host = "urs.earthdata.nasa.gov";  // host[:port] that may see the password
  };
  EarthdataS3Credentials(std::string provider, Options options, std::shared_ptr<UpstreamClient> http)
      : provider_(std::move(provider)), options_(std::move(options)), http_(std::move(http)) {}
  Result<AwsCredentials> fetch() override;
  std::string describe() const override { return "earthdata-s3credentials"; }

 private:
  Error failed(const std::string& internal) const;
  std::string provider_;
  Options options_;
  std::shared_ptr<UpstreamClient> http_;
};

// STS AssumeRole (query protocol, SigV4 service "sts", XML answer), signed with another
// provider's credentials: the cross-account role design.
class StsAssumeRole final : public CredentialSource {
 public:
  struct Options {
    std::string role_arn;
    std::string session_name = "scigate";
    std::string external_id;
    int duration_seconds = 3600;
    std::string region = "us-east-1";
    std::string endpoint;  // default https://sts.{region}.amazonaws.com
  };
  StsAssumeRole(std::string provider, Options options, std::shared_ptr<CredentialsProvider> base,
                std::shared_ptr<UpstreamClient> http);
  Result<AwsCredentials> fetch() override;
  std::string describe() const override { return "sts-assume-role"; }

 private:
  std::string provider_;
  Options options_;
  std::shared_ptr<CredentialsProvider> base_;
  std::shared_ptr<UpstreamClient> http_;
  SigV4Signer signer_;
};

// "2021-01-27 00:50:09+00:00", "2021-01-27T00:50:09Z", "2021-01-27T00:50:09.123Z",
// "2021-01-27T02:50:09+02:00" → the instant; nullopt when unreadable.
std::optional<SystemTime> parse_expiration(std::string_view text);

}  // namespace scigate
