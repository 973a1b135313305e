// Moving whole folders between a local directory and an ObjectStore: the local engine
// uses these to fetch a data selection and to stage a run's outputs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace scigate {

struct TransferStats {
  size_t files = 0;
  uint64_t bytes = 0;
};

// An entry of a folder that upload_folder left out, and why.
struct SkippedEntry {
  std::string path;  // relative to the folder
  std::string reason;
};

// Uploads every regular file under `folder` to bucket/prefix + relative path, with up to
// `parallelism` uploads at once. Symbolic links are never followed (neither to files nor
// to folders; a link as `folder` itself is an error), so only what really is inside the
// folder is published. Links, other non-regular files and names that are not valid keys
// are skipped and listed in `skipped`. The first failure stops the uploads not yet started
// and is returned.
Result<TransferStats> upload_folder(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                    const std::filesystem::path& folder, int parallelism,
                                    std::vector<SkippedEntry>* skipped = nullptr);

// Downloads every object under bucket/prefix into `folder`, keeping relative paths, with
// up to `parallelism` downloads at once while the listing goes on (at most two pages
// ahead). Keys that are not usable relative paths are skipped. Each file appears whole or
// not at all (get_to_file). The first failure (listing or download) stops the downloads
// not yet started and is returned; files already downloaded stay.
Result<TransferStats> download_prefix(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                      const std::filesystem::path& folder, int parallelism);

}  // namespace scigate
