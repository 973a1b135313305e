// Where a provider's AWS credentials come from. Storage (and later STS, MWAA) asks its
// CredentialsProvider for the current credentials on every call: credentials are never
// copied into long-lived clients, so a rotating source (the credentials issue) can swap
// them underneath without anyone noticing.
//
// Thread safety: current() may be called concurrently; it is cheap once credentials are
// known (a shared_ptr copy).
// Failure: kUnavailable with a message naming the provider (never a key or secret).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "aws/sigv4.h"
#include "catalog/config.h"
#include "core/error.h"

namespace scigate {

using CredentialsPtr = std::shared_ptr<const AwsCredentials>;

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<CredentialsPtr> current() = 0;
  // "static", "default (environment)", ...: for logs and readiness, never secret.
  virtual std::string describe() const = 0;
};

// Fixed keys from the config.
class StaticCredentials final : public CredentialsProvider {
 public:
  explicit StaticCredentials(AwsCredentials credentials)
      : credentials_(std::make_shared<const AwsCredentials>(std::move(credentials))) {}
  Result<CredentialsPtr> current() override { return credentials_; }
  std::string describe() const override { return "static"; }

 private:
  CredentialsPtr credentials_;
};

class UpstreamClient;
using CredentialsMap = std::map<std::string, std::shared_ptr<CredentialsProvider>>;

// Builds the credentials of `provider` from its config. Rotating kinds come back as a
// RotatingCredentials that the caller must start().
Result<std::shared_ptr<CredentialsProvider>> make_credentials(const std::string& provider,
                                                              const CredentialsConfig& config,
                                                              std::shared_ptr<UpstreamClient> http);
// The credentials of every `type: s3` provider, by provider name.
Result<CredentialsMap> make_provider_credentials(const Config& config);

}  // namespace scigate
