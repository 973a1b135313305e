#include "credentials/rotating.h"

#include <spdlog/spdlog.h>

namespace scigate {

RotatingCredentials::RotatingCredentials(std::string provider, std::unique_ptr<CredentialSource> source,
                                         RotationPolicy policy, Clock clock)
    : provider_(std::move(provider)), source_(std::move(source)), policy_(policy), clock_(std::move(clock)) {}

RotatingCredentials::~RotatingCredentials() { stop(); }

std::string RotatingCredentials::describe() const { return source_->describe(); }

Error RotatingCredentials::expired_error() const {
  std::string msg = "credentials for provider '" + provider_ + "' are unavailable; retry later";
  std::lock_guard lock(mu_);
  return Error{ErrorCode::kUnavailable, msg + " (last error: " + state_.last_error + ")", msg};
}

Result<CredentialsPtr> RotatingCredentials::current() {
  auto creds = current_.load(std::memory_order_acquire);
  if (creds && (!creds->expiration || clock_() < *creds->expiration)) return creds;
  if (!creds) {
    refresh();  // lazy first fetch; concurrent callers queue on the single flight
    creds = current_.load(std::memory_order_acquire);
    if (creds && (!creds->expiration || clock_() < *creds->expiration)) return creds;
  }
  return expired_error();
}

void RotatingCredentials::refresh() {
  std::lock_guard flight(refresh_mu_);
  {
    // Someone else's fetch may have just succeeded while we waited for the flight.
    std::lock_guard lock(mu_);
    auto creds = current_.load();
    if (creds && state_.last_refresh && clock_() < next_refresh_locked()) return;
    if (!creds && state_.failures > 0 && clock_() < retry_at_) return;
  }
  auto fetched = source_->fetch();
  std::lock_guard lock(mu_);
  if (fetched) {
    current_.store(std::make_shared<const AwsCredentials>(std::move(fetched).value()), std::memory_order_release);
    state_.has_credentials = true;
    state_.expiration = current_.load()->expiration;
    state_.last_refresh = clock_();
    ++state_.refreshes;
    state_.last_error.clear();
    consecutive_failures_ = 0;
    spdlog::info("provider {}: credentials refreshed from {}", provider_, source_->describe());
  } else {
    ++state_.failures;
    state_.last_error = fetched.error().client;
    retry_at_ = clock_() + jittered_backoff(consecutive_failures_++, policy_.min_backoff, policy_.max_backoff);
    spdlog::warn("provider {}: credential refresh failed: {}", provider_, fetched.error().internal);
  }
  cv_.notify_all();
}

// When the refresher should fetch next: on failure after the backoff; otherwise at the
// sooner of refresh_every after the last fetch and refresh_margin before expiry.
SystemTime RotatingCredentials::next_refresh_locked() const {
  if (!state_.last_refresh) return clock_();
  if (consecutive_failures_ > 0) return retry_at_;
  SystemTime at = *state_.last_refresh + policy_.refresh_every;
  if (state_.expiration) at = std::min(at, *state_.expiration - policy_.refresh_margin);
  // Credentials that arrive (nearly) expired, e.g. from a skewed clock, must not make
  // the refresher spin: never sooner than min_backoff after the last fetch.
  return std::max(at, *state_.last_refresh + policy_.min_backoff);
}

void RotatingCredentials::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (!state_.last_refresh && consecutive_failures_ == 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));  // lazy: the first use fetches
      continue;
    }
    SystemTime at = next_refresh_locked();
    SystemTime now = clock_();
    if (now < at) {
      // The clock may be a test's: wake up at most every 100 ms to look again.
      cv_.wait_for(lock, std::min<std::chrono::nanoseconds>(at - now, std::chrono::milliseconds(100)));
      continue;
    }
    lock.unlock();
    refresh();
    lock.lock();
  }
}

void RotatingCredentials::start() {
  source_->start();
  if (policy_.prefetch) refresh();
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void RotatingCredentials::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  source_->stop();
}

CredentialsState RotatingCredentials::state() const {
  std::lock_guard lock(mu_);
  CredentialsState s = state_;
  s.rotating = true;
  auto creds = current_.load();
  s.valid = creds && (!creds->expiration || clock_() < *creds->expiration);
  return s;
}

}  // namespace scigate
