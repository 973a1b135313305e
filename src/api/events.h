// GET /runs/{run_id}/events: a run followed as Server-Sent Events (state, log, end). The
// pieces here are pure, for unit tests; the handler is api::run_events (api.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api.h"

namespace scigate::api {

// One SSE event: `event:`, `id:` when given, and `data` on one `data:` line. `data` must
// hold no line break (JSON as Boost.JSON writes it never does).
std::string sse_event(std::string_view event, std::string_view data, std::string_view id = {});

// Where a client resumes the log: the `Last-Event-ID` header (sent by a reconnecting
// client, so it wins), else `?log_offset=`, else 0. 400 unless a non-negative integer.
Result<uint64_t> resume_offset(const Request& req);

// The stream of one run, polled by the server (PushSource): the run object when it
// changed, new log bytes, and at the end the final run object. State comes from the
// ledger brought up to date with the engine, as GET /runs/{run_id} does, every
// engine.follow_policy().interval: polling keeps the engines' interface as it is (no
// change notifications to add to Airflow, which has none, or to share between
// instances on one ledger) and costs one ledger read (local) or two Airflow calls per
// interval and stream, bounded by server.max_event_streams.
class RunEventSource final : public PushSource {
 public:
  // Log bytes sent in one event at most: a long log arrives in several.
  static constexpr size_t kMaxLogChunk = 64 << 10;

  RunEventSource(const ApiDeps& deps, std::string run_id, uint64_t log_offset, std::string request_id);
  Chunk poll() override;
  std::chrono::milliseconds interval() const override;
  std::string keepalive() const override { return ": ping\n\n"; }

 private:
  // Appends log events for new bytes; returns whether the whole log was sent, nothing
  // when it could not be read (then the next poll, an interval later, tries again).
  std::optional<bool> append_log(const RunRecord& run, bool finished, std::string& out);

  const ApiDeps& d_;
  std::string run_id_;
  uint64_t offset_;
  std::string request_id_;
  std::string last_state_;  // the last state event's data
  bool log_due_ = false;    // the last log read failed or left bytes behind
};

}  // namespace scigate::api
