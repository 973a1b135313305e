#include "ledger/cursor.h"

#include <charconv>

namespace scigate {

std::optional<RunCursor> parse_run_cursor(const std::string& cursor) {
  auto sep = cursor.find('_');
  if (sep == std::string::npos || sep == 0 || sep > 19 || sep + 1 >= cursor.size()) return std::nullopt;
  for (size_t i = 0; i < sep; ++i) {
    if (cursor[i] < '0' || cursor[i] > '9') return std::nullopt;
  }
  RunCursor out;
  // 19 digits may exceed int64 (stoll would throw).
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + sep, out.created_us);
  if (ec != std::errc() || end != cursor.data() + sep) return std::nullopt;
  out.run_id = cursor.substr(sep + 1);
  return out;
}

RunPage make_run_page(std::vector<RunRecord> rows, int limit) {
  RunPage page;
  page.runs = std::move(rows);
  if (limit >= 0 && static_cast<int64_t>(page.runs.size()) > limit) {
    page.runs.resize(limit);
    if (!page.runs.empty()) {
      const auto& last = page.runs.back();
      page.next_cursor = std::to_string(last.created_us) + "_" + last.run_id;
    }
  }
  return page;
}

}  // namespace scigate
