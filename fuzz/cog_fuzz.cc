// TIFF / COG files as the tiler reads them from any bucket: the header parse (libtiff's
// IFD walk, libgeotiff's keys, GDAL's tags, the reader's limits), the blocks of a few
// windows decoded through the reader's own path (ranged GETs from a store, block cache,
// decode handles over the parsed header), then one small map tile through the warp.
// Invariants: every failure of the file is a 400 with the reader's wording (never 5xx),
// the tile's a 4xx; images have the asked size and a 0/255 mask; nothing larger than a
// block or a window is allocated (libFuzzer's -malloc_limit_mb catches the rest).
#include <cmath>
#include <memory>

#include "fakes/memory_store.h"
#include "fuzz_check.h"
#include "raster/cog_reader.h"
#include "raster/layer.h"
#include "raster/tms.h"

namespace {

using namespace scigate;
using namespace scigate::raster;

bool reader_message(const std::string& m) {
  return m == "not a TIFF" || m.rfind("corrupt TIFF: ", 0) == 0 || m.rfind("unsupported TIFF: ", 0) == 0 ||
         m == "window too large";
}

void check_image(const Result<Image>& img, const Window& w, size_t bands) {
  if (!img) {
    FUZZ_CHECK(img.error().code == ErrorCode::kBadRequest && reader_message(img.error().client));
    return;
  }
  FUZZ_CHECK(img->width == w.width && img->height == w.height && img->bands.size() == bands);
  const size_t pixels = static_cast<size_t>(w.width) * w.height;
  FUZZ_CHECK(img->valid.size() == pixels);
  for (const auto& band : img->bands) FUZZ_CHECK(band.size() == pixels);
  for (uint8_t v : img->valid) FUZZ_CHECK(v == 0 || v == 255);
}

void render_tile(CogReader& reader) {
  const RasterInfo& info = reader.info();
  const TileMatrixSet& tms = *find_tile_matrix_set("WebMercatorQuad");
  auto geo = transform_bounds(raster_bounds(info), info.crs, tms.geographic_crs);
  if (!geo) return;
  auto tile = tms.tile_at((geo->left + geo->right) / 2, (geo->bottom + geo->top) / 2, zoom_range(info, tms).maxzoom);
  if (!tile) return;
  auto grid = tile_grid(tms, *tile, 64);
  FUZZ_CHECK(grid.ok());
  LayerOptions options;
  options.bidx = {1};
  auto layer = read_layer(reader, *grid, options);
  if (!layer) {
    const int status = http_status(layer.error().code);
    FUZZ_CHECK(status >= 400 && status < 500);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One store and cache for the process: each put is a new ETag, so no input sees the
  // blocks of another.
  static auto store = std::make_shared<testing::MemoryStore>();
  static auto context = std::make_shared<ReaderContext>(8 << 20, 2);
  static auto counters = std::make_shared<IoCounters>();
  const std::string bytes = fuzz::as_string(data, size);
  FUZZ_CHECK(store->put("b", "k.tif", bytes).ok());
  auto head = store->head("b", "k.tif");
  FUZZ_CHECK(head.ok());
  auto reader = CogReader::open(ObjectRef{store, "b", "k.tif", *head}, context, counters);
  if (!reader) {
    FUZZ_CHECK(reader.error().code == ErrorCode::kBadRequest && reader_message(reader.error().client));
    return 0;
  }
  const RasterInfo& info = (*reader)->info();
  FUZZ_CHECK(!info.levels.empty() && info.width > 0 && info.height > 0 && info.band_count > 0);
  std::vector<int> bands;
  for (int b = 1; b <= std::min(info.band_count, 4); ++b) bands.push_back(b);
  for (int l : {0, static_cast<int>(info.levels.size()) - 1}) {
    const Level& level = info.levels[l];
    for (Window w : {Window{0, 0, std::min(level.width, 256), std::min(level.height, 256)},
                     Window{level.width - 100, level.height - 100, 130, 130}}) {
      check_image((*reader)->read(l, w, bands), w, bands.size());
    }
  }
  render_tile(**reader);
  return 0;
}
