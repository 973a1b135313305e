#include "storage/transfer.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/key_path.h"

namespace fs = std::filesystem;

namespace scigate {

namespace {
bool usable_key(const std::string& rel) {
  auto k = parse_relative_key(percent_encode(rel));
  return k && !k->path.empty();
}
}  // namespace

namespace {
// Why an entry of a walked folder is not uploaded; empty when it is. Types come from
// symlink_status: a link is judged as a link, never as what it points to, or a run could
// publish any file the server may read (`ln -s /etc/passwd out/x`).
std::string skip_reason(const fs::directory_entry& entry, const std::string& rel) {
  std::error_code ec;
  fs::file_type type = entry.symlink_status(ec).type();
  if (ec) return "cannot read its type: " + ec.message();
  if (type == fs::file_type::symlink) return "symbolic link";
  if (type != fs::file_type::regular) return "not a regular file";
  if (!usable_key(rel)) return "name is not a valid object key";
  return "";
}
}  // namespace

Result<TransferStats> upload_folder(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                    const fs::path& folder, int parallelism, std::vector<SkippedEntry>* skipped) {
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(folder, ec))) {
    return Error{ErrorCode::kInternal, folder.string() + " is a symbolic link",
                 "the output folder was replaced by a symbolic link"};
  }
  std::vector<std::pair<fs::path, std::string>> files;
  std::vector<SkippedEntry> left_out;
  // directory_options::none: links to folders are listed, never entered.
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->symlink_status(type_ec).type() == fs::file_type::directory) continue;
    std::string rel = it->path().lexically_relative(folder).generic_string();
    if (std::string why = skip_reason(*it, rel); !why.empty())
      left_out.push_back({rel, std::move(why)});
    else
      files.emplace_back(it->path(), prefix + rel);
  }
  if (ec) return Error::internal_error("cannot walk " + folder.string() + ": " + ec.message());
  if (skipped) *skipped = std::move(left_out);
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0};
  std::mutex mu;
  std::optional<Error> failure;
  auto worker = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      {
        std::lock_guard lock(mu);
        if (failure) return;
      }
      if (auto st = store.put_file(bucket, files[i].second, files[i].first); !st) {
        std::lock_guard lock(mu);
        if (!failure) failure = st.error();
        return;
      }
      std::error_code size_ec;
      bytes += fs::file_size(files[i].first, size_ec);
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(1, std::min<int>(parallelism, static_cast<int>(files.size())));
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) return *failure;
  return TransferStats{files.size(), bytes.load()};
}

Result<TransferStats> download_prefix(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                      const fs::path& folder) {
  ListRequest req{bucket, prefix, "", "", 1000};
  TransferStats stats;
  do {
    auto page = store.list(req);
    if (!page) return page.error();
    for (const auto& obj : page->objects) {
      std::string rel = obj.key.substr(prefix.size());
      if (!usable_key(rel)) continue;
      if (auto st = store.get_to_file(bucket, obj.key, folder / rel); !st) return st.error();
      ++stats.files;
      stats.bytes += obj.size;
    }
    req.continuation_token = page->next_token;
  } while (!req.continuation_token.empty());
  return stats;
}

}  // namespace scigate
