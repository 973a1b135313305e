// Where a provider's AWS credentials come from. Storage (and later STS, MWAA) asks its
// CredentialsProvider for the current credentials on every call: credentials are never
// copied into long-lived clients, so a rotating source (the credentials issue) can swap
// them underneath without anyone noticing.
//
// Thread safety: current() may be called concurrently; it is cheap once credentials are
// known (a shared_ptr copy).
// Failure: kUnavailable with a message naming the provider (never a key or secret).
//
// Lifecycle: the factories below start no thread. Whoever owns a provider (the app for
// the providers' credentials, an engine for the ones it signs with) calls start() once
// before serving and stop() at shutdown; both are no-ops for fixed keys, so owners never
// need to know which kind they hold.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "catalog/config.h"
#include "core/error.h"

namespace scigate {

using CredentialsPtr = std::shared_ptr<const AwsCredentials>;

// What operators see (/readyz, /metrics, `scigate credentials check`). No secrets.
struct CredentialsState {
  bool rotating = false;  // false: fixed keys; nothing below is tracked (all at defaults)
  bool has_credentials = false;
  bool valid = false;  // has credentials that have not expired
  std::optional<SystemTime> expiration;
  std::optional<SystemTime> last_refresh;
  uint64_t refreshes = 0;  // successful fetches
  uint64_t failures = 0;   // failed fetches
  std::string last_error;  // client-safe
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<CredentialsPtr> current() = 0;
  // "static", "default (environment)", ...: for logs and readiness, never secret.
  virtual std::string describe() const = 0;

  // Background work (refreshing before expiry), and credentials this one is built on.
  // Idempotent; stop() joins whatever start() began.
  virtual void start() {}
  virtual void stop() {}
  virtual CredentialsState state() const { return {}; }
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

// Builds the credentials of `provider` from its config, not started (see Lifecycle above).
Result<std::shared_ptr<CredentialsProvider>> make_credentials(const std::string& provider,
                                                              const CredentialsConfig& config,
                                                              std::shared_ptr<UpstreamClient> http);
// The credentials of every `type: s3` provider, by provider name.
Result<CredentialsMap> make_provider_credentials(const Config& config);

}  // namespace scigate
