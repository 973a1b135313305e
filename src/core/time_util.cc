#include "core/time_util.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace scigate {

namespace {
std::tm utc_tm(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
}  // namespace

std::string format_iso8601(SystemTime t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto seconds = micros / 1'000'000 - (micros % 1'000'000 < 0 ? 1 : 0);
  auto us = micros - seconds * 1'000'000;
  // The date and time part changes once a second; every access-log line formats it, so
  // each thread keeps the last one.
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char cached[24];
  if (seconds != cached_second) {
    std::time_t tt = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = seconds;
  }
  char out[32];
  std::memcpy(out, cached, 19);
  out[19] = '.';
  for (int i = 25; i >= 20; --i, us /= 10) out[i] = static_cast<char>('0' + us % 10);
  out[26] = 'Z';
  return std::string(out, 27);
}

std::optional<SystemTime> parse_iso8601(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%d", &tm);
  if (!rest || (*rest != 'T' && *rest != ' ')) return std::nullopt;
  rest = strptime(rest + 1, "%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  int64_t micros = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    for (; *rest >= '0' && *rest <= '9'; ++rest, ++digits) {
      if (digits < 6) micros = micros * 10 + (*rest - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  long offset = 0;
  if (*rest == 'Z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    // Exactly "hh:mm": the checks stop at the terminating NUL, so nothing past it is read.
    auto digit = [&](int i) { return rest[i] >= '0' && rest[i] <= '9'; };
    if (!(digit(1) && digit(2) && rest[3] == ':' && digit(4) && digit(5))) return std::nullopt;
    long hh = (rest[1] - '0') * 10 + (rest[2] - '0'), mm = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (hh > 23 || mm > 59) return std::nullopt;
    offset = (hh * 3600 + mm * 60) * (*rest == '-' ? -1 : 1);
    rest += 6;
  }
  if (*rest != '\0') return std::nullopt;
  // SystemTime counts nanoseconds in 64 bits (years 1678 to 2261); a year beyond would
  // overflow the conversion, and no answer means one.
  constexpr int64_t kMaxSeconds = std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count();
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  if (seconds >= kMaxSeconds || seconds <= -kMaxSeconds) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::microseconds(micros);
}

std::string compact_stamp(SystemTime t) {
  std::tm tm = utc_tm(t);
  char buf[24];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

int64_t to_unix_micros(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

SystemTime from_unix_micros(int64_t us) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::microseconds(us)));
}

std::chrono::milliseconds jittered_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds max) {
  uint32_t r = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r);
  auto cap = std::min<std::chrono::milliseconds>(max, base * (1LL << std::min(attempt, 20)));
  return std::chrono::milliseconds(r % (static_cast<uint64_t>(cap.count()) + 1));
}

std::string random_hex(size_t n_bytes) {
  std::string raw(n_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n_bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n_bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace scigate
