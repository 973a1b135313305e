// The COG reader over a real, signature-checking S3 server (radosgw, started by the CTest
// fixture in tests/peers): every header and block read is a signed ranged GET, and the
// pixels equal what GDAL reads from the same files.
#include <gtest/gtest.h>

#include "aws/sigv4.h"
#include "credentials/credentials_provider.h"
#include "peer_env.h"
#include "raster/raster_fixtures.h"
#include "raster/raster_readers.h"
#include "storage/s3_store.h"

namespace scigate::raster {
namespace {

class CogOverS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = peer_env("RADOSGW_ENV");
    ASSERT_FALSE(env_["S3_ENDPOINT"].empty()) << "RADOSGW_ENV not set or empty";
    auto store = make(env_["S3_SECRET_ACCESS_KEY"]);
    bucket_ = "cog-" + random_hex(4);
    ASSERT_TRUE(store->create_bucket(bucket_));
    for (const char* name : {"rgb_jpeg", "utm_u16_nodata"}) {
      std::string bytes = testing::read_file(testing::raster_fixtures() / (std::string(name) + ".tif"));
      ASSERT_TRUE(store->put(bucket_, std::string("maps/") + name + ".tif", bytes));
    }
  }
  std::shared_ptr<S3ObjectStore> make(const std::string& secret) {
    S3ProviderConfig p;
    p.region = "us-east-1";
    p.endpoint = env_["S3_ENDPOINT"];
    p.path_style = true;
    p.max_retries = 1;
    auto creds =
        std::make_shared<StaticCredentials>(AwsCredentials{env_["S3_ACCESS_KEY_ID"], secret, "", std::nullopt});
    return std::make_shared<S3ObjectStore>("platform", std::move(p), creds, std::make_shared<UpstreamClient>());
  }
  std::map<std::string, std::string> env_;
  std::string bucket_;
};

TEST_F(CogOverS3, ReadsEveryLevelAsGdalDoesWithRangedGets) {
  RasterReaders readers({{"platform", make(env_["S3_SECRET_ACCESS_KEY"])}}, RasterConfig{});
  uint64_t file_bytes = 0;
  for (const std::string name : {"rgb_jpeg", "utm_u16_nodata"}) {
    file_bytes += std::filesystem::file_size(testing::raster_fixtures() / (name + ".tif"));
    auto reader = readers.open("platform", bucket_, "maps/" + name + ".tif");
    ASSERT_TRUE(reader) << reader.error().internal;
    const RasterInfo& info = (*reader)->info();
    for (size_t l = 0; l < info.levels.size(); ++l) {
      auto img = (*reader)->read(static_cast<int>(l), {0, 0, info.levels[l].width, info.levels[l].height}, {1});
      ASSERT_TRUE(img) << img.error().internal;
      auto gdal =
          testing::read_array<double>(testing::raster_fixtures() / (name + ".L" + std::to_string(l) + ".b1.f64"));
      EXPECT_EQ(img->bands[0], gdal) << name << " level " << l;
    }
  }
  const IoCounters& io = readers.io("platform");
  EXPECT_EQ(io.heads, 2u);
  EXPECT_GE(io.gets, 4u);
  // Every block once (the header's first 64 KiB may overlap the first blocks).
  EXPECT_LE(io.bytes, file_bytes + 2 * (64 << 10));
  EXPECT_GE(io.bytes, file_bytes / 2);
}

TEST_F(CogOverS3, AWrongSecretFailsAsTheProvidersFaultNotTheFiles) {
  RasterReaders readers({{"platform", make("wrong-secret")}}, RasterConfig{});
  auto reader = readers.open("platform", bucket_, "maps/rgb_jpeg.tif");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(reader.error().client.find("wrong-secret"), std::string::npos);
}

}  // namespace
}  // namespace scigate::raster
