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

Result<TransferStats> upload_folder(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                    const fs::path& folder, int parallelism, size_t* skipped) {
  std::vector<std::pair<fs::path, std::string>> files;
  std::error_code ec;
  size_t unusable = 0;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string rel = it->path().lexically_relative(folder).generic_string();
    if (usable_key(rel))
      files.emplace_back(it->path(), prefix + rel);
    else
      ++unusable;
  }
  if (ec) return Error::internal_error("cannot walk " + folder.string() + ": " + ec.message());
  if (skipped) *skipped = unusable;
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
