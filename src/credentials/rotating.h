// RotatingCredentials: a provider's short-lived credentials, refreshed in the background
// and read per request without waiting.
//
//  * Refresh at `refresh_every` after the last fetch, or `refresh_margin` before the
//    credentials expire, whichever is sooner.
//  * One refresh in flight per provider (single flight). Requests never wait while valid
//    credentials exist; only the very first fetch (lazy start) makes callers wait, and
//    they all wait on that one fetch.
//  * A failed refresh keeps the last good credentials until they expire and retries with
//    jittered exponential backoff. Once they have expired, current() answers 503
//    (kUnavailable) naming the provider; other providers are unaffected.
//  * Replaced credentials are dropped (their buffers wiped by ~AwsCredentials) when the
//    last request using them finishes.
//
// Thread safety: all methods are thread-safe. current() is one atomic load plus a clock
// read on the hot path.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "credentials/credentials_provider.h"

namespace scigate {

// One upstream fetch of credentials (Earthdata /s3credentials, STS AssumeRole, ...).
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // Failure: kUpstreamFailed / kUnavailable / kUpstreamTimeout with a message that
  // never contains a secret.
  virtual Result<AwsCredentials> fetch() = 0;
  virtual std::string describe() const = 0;
  // Credentials the source fetches with (STS AssumeRole's base) rotate on their own:
  // the RotatingCredentials around the source starts and stops them with itself.
  virtual void start() {}
  virtual void stop() {}
};

struct RotationPolicy {
  std::chrono::milliseconds refresh_every{30 * 60'000};
  std::chrono::milliseconds refresh_margin{5 * 60'000};
  std::chrono::milliseconds min_backoff{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  bool prefetch = false;  // fetch at start() instead of on first use
};

class RotatingCredentials final : public CredentialsProvider {
 public:
  using Clock = std::function<SystemTime()>;
  RotatingCredentials(
      std::string provider, std::unique_ptr<CredentialSource> source, RotationPolicy policy,
      Clock clock = [] { return std::chrono::system_clock::now(); });
  ~RotatingCredentials() override;

  Result<CredentialsPtr> current() override;
  std::string describe() const override;

  // Starts the source's own background work, then the refresher (and the first fetch
  // when prefetch is set). stop() stops both, in the reverse order.
  void start() override;
  void stop() override;
  CredentialsState state() const override;
  const std::string& provider() const { return provider_; }

 private:
  // Fetches once, under the single-flight lock; publishes on success.
  void refresh();
  void run();
  std::chrono::system_clock::time_point next_refresh_locked() const;
  Error expired_error() const;

  std::string provider_;
  std::unique_ptr<CredentialSource> source_;
  RotationPolicy policy_;
  Clock clock_;

  std::atomic<std::shared_ptr<const AwsCredentials>> current_;
  std::mutex refresh_mu_;  // single flight: held for the duration of one fetch

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  CredentialsState state_;
  int consecutive_failures_ = 0;
  SystemTime retry_at_{};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scigate
