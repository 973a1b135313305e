// Moving whole folders between a local directory and an ObjectStore: the local engine
// uses these to fetch a data selection and to stage a run's outputs.
#pragma once

#include <filesystem>
#include <string>

#include "storage/object_store.h"

namespace scigate {

struct TransferStats {
  size_t files = 0;
  uint64_t bytes = 0;
};

// Uploads every regular file under `folder` to bucket/prefix + relative path, with up to
// `parallelism` uploads at once. Names that are not valid keys are skipped (and counted
// in `skipped`). The first failure stops the uploads not yet started and is returned.
Result<TransferStats> upload_folder(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                    const std::filesystem::path& folder, int parallelism, size_t* skipped = nullptr);

// Downloads every object under bucket/prefix into `folder`, keeping relative paths, with
// up to `parallelism` downloads at once while the listing goes on (at most two pages
// ahead). Keys that are not usable relative paths are skipped. Each file appears whole or
// not at all (get_to_file). The first failure (listing or download) stops the downloads
// not yet started and is returned; files already downloaded stay.
Result<TransferStats> download_prefix(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                                      const std::filesystem::path& folder, int parallelism);

}  // namespace scigate
