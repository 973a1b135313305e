#include "storage/transfer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
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

// Runs `work` on the items one producer feeds, on up to `workers` threads started as
// items arrive. At most `capacity` items wait, so a producer that lists faster than the
// workers transfer does not buffer without bound. The first failure stops the rest:
// feed() returns false from then on, waiting items are dropped (transfers under way
// finish), and finish() returns it.
template <typename Item>
class WorkPool {
 public:
  WorkPool(int workers, size_t capacity, std::function<Status(const Item&)> work)
      : max_workers_(std::max(1, workers)), capacity_(std::max<size_t>(1, capacity)), work_(std::move(work)) {}
  ~WorkPool() { (void)finish(); }

  bool feed(Item item) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return items_.size() < capacity_ || failure_; });
    if (failure_) return false;
    items_.push_back(std::move(item));
    // A new worker when no idle one is left to take this item.
    if (items_.size() > idle_ && static_cast<int>(threads_.size()) < max_workers_)
      threads_.emplace_back([this] { run(); });
    ready_.notify_one();
    return true;
  }

  // Stops the pool as a failing item would (the producer's own failure).
  void fail(Error error) {
    std::lock_guard lock(mu_);
    stop(std::move(error));
  }

  // Waits for the fed items and the workers; the first failure, if any.
  Status finish() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    if (failure_) return *failure_;
    return ok_status();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [&] { return !items_.empty() || closed_ || failure_; });
      --idle_;
      if (failure_ || items_.empty()) return;
      Item item = std::move(items_.front());
      items_.pop_front();
      room_.notify_one();
      lock.unlock();
      Status st = work_(item);
      lock.lock();
      if (!st) stop(st.error());
    }
  }

  // Called with mu_ held.
  void stop(Error error) {
    if (failure_) return;
    failure_ = std::move(error);
    items_.clear();
    room_.notify_all();
    ready_.notify_all();
  }

  const int max_workers_;
  const size_t capacity_;
  std::function<Status(const Item&)> work_;
  std::mutex mu_;
  std::condition_variable ready_;  // an item waits, or the pool closed or failed
  std::condition_variable room_;   // an item was taken, or the pool failed
  std::deque<Item> items_;
  size_t idle_ = 0;  // workers waiting for an item
  bool closed_ = false;
  std::optional<Error> failure_;
  std::vector<std::thread> threads_;
};

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
  std::atomic<uint64_t> bytes{0};
  WorkPool<std::pair<fs::path, std::string>> pool(parallelism, files.size(), [&](const auto& file) -> Status {
    if (auto st = store.put_file(bucket, file.second, file.first); !st) return st;
    std::error_code size_ec;
    bytes += fs::file_size(file.first, size_ec);
    return ok_status();
  });
  for (auto& file : files) {
    if (!pool.feed(std::move(file))) break;
  }
  if (auto st = pool.finish(); !st) return st.error();
  return TransferStats{files.size(), bytes.load()};
}

Result<TransferStats> download_prefix(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                      const fs::path& folder, int parallelism) {
  constexpr int kPageSize = 1000;
  std::atomic<size_t> files{0};
  std::atomic<uint64_t> bytes{0};
  // Two pages wait at most: the listing runs ahead of the downloads by that much.
  WorkPool<ObjectInfo> pool(parallelism, 2 * kPageSize, [&](const ObjectInfo& obj) -> Status {
    if (auto st = store.get_to_file(bucket, obj.key, folder / obj.key.substr(prefix.size())); !st) return st;
    ++files;
    bytes += obj.size;
    return ok_status();
  });
  ListRequest req{bucket, prefix, "", "", kPageSize};
  do {
    auto page = store.list(req);
    if (!page) {
      pool.fail(page.error());
      break;
    }
    for (auto& obj : page->objects) {
      if (!usable_key(obj.key.substr(prefix.size()))) continue;
      if (!pool.feed(std::move(obj))) break;
    }
    req.continuation_token = page->next_token;
  } while (!req.continuation_token.empty());
  if (auto st = pool.finish(); !st) return st.error();
  return TransferStats{files.load(), bytes.load()};
}

}  // namespace scigate
