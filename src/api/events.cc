#include "api/events.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "api/common.h"
#include "core/utf8.h"

namespace json = boost::json;

namespace scigate::api {

std::string sse_event(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(event.size() + data.size() + id.size() + 24);
  out.append("event: ").append(event).append("\n");
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  out.append("data: ").append(data).append("\n\n");
  return out;
}

Result<uint64_t> resume_offset(const Request& req) {
  std::string given = req.header("last-event-id");
  const char* what = "Last-Event-ID";
  if (given.empty() && req.has_query_param("log_offset")) {
    given = req.query_param("log_offset");
    what = "log_offset";
  }
  if (given.empty()) return uint64_t{0};
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(given.data(), given.data() + given.size(), value);
  if (ec != std::errc() || end != given.data() + given.size())
    return Error::bad_request(std::string(what) + " must be a byte offset (a non-negative integer)");
  return value;
}

RunEventSource::RunEventSource(const ApiDeps& deps, std::string run_id, uint64_t log_offset, std::string request_id)
    : d_(deps), run_id_(std::move(run_id)), offset_(log_offset), request_id_(std::move(request_id)) {}

std::chrono::milliseconds RunEventSource::interval() const { return d_.engine.follow_policy().interval; }

PushSource::Chunk RunEventSource::poll() {
  Chunk out;
  auto stored = d_.ledger.get(run_id_);
  if (!stored) {
    spdlog::warn("request {}: events of run {}: {}", request_id_, run_id_, stored.error().internal);
    out.done = stored.error().code == ErrorCode::kNotFound;
    return out;  // else the ledger may come back: try again at the next poll
  }
  auto run = refreshed(d_, std::move(stored).value());
  if (!run) {
    spdlog::warn("request {}: events of run {}: {}", request_id_, run_id_, run.error().internal);
    return out;
  }
  std::string state = json::serialize(run_detail(d_, *run));
  bool changed = state != last_state_;
  bool first = last_state_.empty();
  if (changed) out.bytes += sse_event("state", state);
  bool finished = is_terminal(run->state);
  std::optional<bool> log_complete = false;
  if (first || changed || finished || log_due_ || d_.engine.follow_policy().log_grows_between_changes) {
    log_complete = append_log(*run, finished, out.bytes);
    log_due_ = log_complete != true;  // unread or unsent bytes: read again at the next poll
  }
  last_state_ = std::move(state);
  if (finished && log_complete == true) {
    out.bytes += sse_event("end", last_state_);
    out.done = true;
  } else if (finished && log_complete == false) {
    out.again = true;  // more of a finished run's log: send it at once, piece by piece
  }
  return out;
}

std::optional<bool> RunEventSource::append_log(const RunRecord& run, bool finished, std::string& out) {
  auto slice = d_.engine.read_log(run, offset_, kMaxLogChunk);
  if (!slice) {
    spdlog::warn("request {}: log of run {}: {}", request_id_, run_id_, slice.error().internal);
    return std::nullopt;
  }
  // A resume point past the end (the log of another run, a made-up id) gets what follows.
  offset_ = std::min(offset_, slice->size);
  bool at_end = offset_ + slice->bytes.size() >= slice->size;
  // A character cut at the end of the piece waits for its other bytes, unless nothing follows.
  size_t usable = finished && at_end ? slice->bytes.size() : utf8_complete_prefix(slice->bytes);
  if (usable > 0) {
    offset_ += usable;
    json::object data{{"text", repair_utf8(std::string_view(slice->bytes).substr(0, usable))}};
    out += sse_event("log", json::serialize(data), std::to_string(offset_));
  }
  return at_end && usable == slice->bytes.size();
}

Response run_events(const ApiDeps& d, const RequestContext& ctx, const Request& req) {
  auto run = own_ledger_run(d, ctx, req);
  if (!run) return fail(ctx, run.error());
  auto offset = resume_offset(req);
  if (!offset) return fail(ctx, offset.error());
  Response r;
  r.content_type = "text/event-stream";
  r.push = std::make_shared<RunEventSource>(d, run->run_id, *offset, ctx.request_id);
  r.with_header("Cache-Control", "no-store");
  r.with_header("X-Accel-Buffering", "no");  // nginx would buffer the stream otherwise
  return r;
}

}  // namespace scigate::api
