// Credential sources that fetch short-lived S3 credentials from an upstream service.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "credentials/rotating.h"
#include "http_client/upstream.h"

namespace scigate {

// The answers of the credential services, read apart from the exchanges that fetch them
// (pure functions, tested and fuzzed alone).
//
// A DAAC's /s3credentials JSON. kUpstreamFailed (the reason in `internal` only) when it is
// not a JSON object or lacks accessKeyId, secretAccessKey or a readable expiration.
Result<AwsCredentials> parse_earthdata_credentials(const std::string& body);
// An STS query-protocol answer to `action` ("AssumeRole", "AssumeRoleWithWebIdentity"):
// {action}Response/{action}Result/Credentials as found (fields empty when absent), and
// ErrorResponse/Error/Code of a refusal.
struct StsAnswer {
  AwsCredentials credentials;
  std::string error_code;
};
StsAnswer parse_sts_answer(const std::string& body, const std::string& action);
// The container and instance-metadata JSON {AccessKeyId, SecretAccessKey, Token,
// Expiration}; nullopt unless it has both keys.
std::optional<AwsCredentials> parse_metadata_credentials(const std::string& body);

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
  void start() override { base_->start(); }
  void stop() override { base_->stop(); }

 private:
  std::string provider_;
  Options options_;
  std::shared_ptr<CredentialsProvider> base_;
  std::shared_ptr<UpstreamClient> http_;
  SigV4Signer signer_;
};

// The AWS default chain, first answer wins: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN; web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, STS
// AssumeRoleWithWebIdentity); the shared credentials file and profile; container
// credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); EC2 instance metadata with IMDSv2 tokens
// (AWS_EC2_METADATA_SERVICE_ENDPOINT, off with AWS_EC2_METADATA_DISABLED=true). Wrapped
// in RotatingCredentials, so temporary answers are refreshed before they expire.
class DefaultChainSource final : public CredentialSource {
 public:
  DefaultChainSource(std::string provider, std::string profile, std::filesystem::path shared_file,
                     std::shared_ptr<UpstreamClient> http)
      : provider_(std::move(provider)),
        profile_(std::move(profile)),
        shared_file_(std::move(shared_file)),
        http_(std::move(http)) {}
  Result<AwsCredentials> fetch() override;
  std::string describe() const override;

 private:
  std::optional<AwsCredentials> from_environment();
  Result<std::optional<AwsCredentials>> from_web_identity();
  std::optional<AwsCredentials> from_shared_file();
  Result<std::optional<AwsCredentials>> from_container();
  Result<std::optional<AwsCredentials>> from_instance_metadata();

  std::string provider_;
  std::string profile_;
  std::filesystem::path shared_file_;
  std::shared_ptr<UpstreamClient> http_;
  mutable std::mutex mu_;
  std::string answered_by_;
};

}  // namespace scigate
