#include "raster/cog_header.h"

#include <geotiff/geo_normalize.h>
#include <geotiff/geotiff.h>
#include <geotiff/geovalues.h>
#include <proj.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <pugixml.hpp>

namespace scigate::raster::detail {

namespace {

constexpr uint64_t kFirstBytes = 64 << 10;
constexpr ttag_t kTagGeoPixelScale = 33550;
constexpr ttag_t kTagGeoTiePoints = 33922;
constexpr ttag_t kTagGeoTransMatrix = 34264;
constexpr ttag_t kTagGdalMetadata = 42112;
constexpr ttag_t kTagGdalNodata = 42113;
constexpr int kMaxBlockSide = 1 << 16;

Error not_a_tiff() { return Error::bad_request("not a TIFF"); }
Error unsupported(const std::string& what) { return Error::bad_request("unsupported TIFF: " + what); }

bool is_tiff_magic(const std::string& b) {
  if (b.size() < 4) return false;
  bool ii = b[0] == 'I' && b[1] == 'I', mm = b[0] == 'M' && b[1] == 'M';
  if (!ii && !mm) return false;
  int version = ii ? (static_cast<uint8_t>(b[2]) | static_cast<uint8_t>(b[3]) << 8)
                   : (static_cast<uint8_t>(b[2]) << 8 | static_cast<uint8_t>(b[3]));
  return version == 42 || version == 43;
}

const char* compression_name(uint16_t c) {
  switch (c) {
    case COMPRESSION_NONE:
      return "none";
    case COMPRESSION_LZW:
      return "lzw";
    case COMPRESSION_JPEG:
      return "jpeg";
    case COMPRESSION_ADOBE_DEFLATE:
    case COMPRESSION_DEFLATE:
      return "deflate";
    case COMPRESSION_PACKBITS:
      return "packbits";
    case COMPRESSION_WEBP:
      return "webp";
    case COMPRESSION_ZSTD:
      return "zstd";
    case COMPRESSION_LERC:
      return "lerc";
    case COMPRESSION_LZMA:
      return "lzma";
    case COMPRESSION_CCITTRLE:
    case COMPRESSION_CCITTFAX3:
    case COMPRESSION_CCITTFAX4:
      return "ccitt";
    default:
      return "other";
  }
}

const char* photometric_name(uint16_t p) {
  switch (p) {
    case PHOTOMETRIC_MINISWHITE:
      return "miniswhite";
    case PHOTOMETRIC_MINISBLACK:
      return "minisblack";
    case PHOTOMETRIC_RGB:
      return "rgb";
    case PHOTOMETRIC_PALETTE:
      return "palette";
    case PHOTOMETRIC_MASK:
      return "mask";
    case PHOTOMETRIC_SEPARATED:
      return "cmyk";
    case PHOTOMETRIC_YCBCR:
      return "ycbcr";
    case PHOTOMETRIC_CIELAB:
      return "cielab";
    default:
      return "other";
  }
}

Result<DataType> data_type(int bits, uint16_t format) {
  if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) {
    if (bits == 1 || bits == 8) return DataType::kUInt8;
    if (bits == 16) return DataType::kUInt16;
    if (bits == 32) return DataType::kUInt32;
  } else if (format == SAMPLEFORMAT_INT) {
    if (bits == 8) return DataType::kInt8;
    if (bits == 16) return DataType::kInt16;
    if (bits == 32) return DataType::kInt32;
  } else if (format == SAMPLEFORMAT_IEEEFP) {
    if (bits == 32) return DataType::kFloat32;
    if (bits == 64) return DataType::kFloat64;
  }
  return unsupported(std::to_string(bits) + "-bit samples of format " + std::to_string(format));
}

// The IFD libtiff is on, as a Directory (striles not loaded yet).
Result<Directory> describe_directory(TIFF* tif, int ifd, const HeaderLimits& limits) {
  Directory d;
  d.ifd = ifd;
  uint32_t w = 0, h = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0 ||
      w > INT_MAX || h > INT_MAX) {
    return corrupt("bad image size");
  }
  d.width = static_cast<int>(w);
  d.height = static_cast<int>(h);
  d.tiled = TIFFIsTiled(tif) != 0;
  if (d.tiled) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0 || tw > kMaxBlockSide || th > kMaxBlockSide) return corrupt("bad tile size");
    d.block_width = static_cast<int>(tw);
    d.block_height = static_cast<int>(th);
  } else {
    uint32_t rows = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows);
    if (rows == 0) return corrupt("rows per strip is 0");
    d.block_width = d.width;
    d.block_height = static_cast<int>(std::min<uint32_t>(rows, h));
  }
  uint16_t spp = 1, bits = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG, photometric = 0;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &d.compression);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  if (spp == 0) return corrupt("0 samples per pixel");
  d.samples = spp;
  d.bits = bits;
  d.separate = planar == PLANARCONFIG_SEPARATE;
  auto type = data_type(bits, format);
  if (!type) return type.error();
  d.type = *type;
  if (d.compression == COMPRESSION_OJPEG || !TIFFIsCODECConfigured(d.compression)) {
    return unsupported(std::string("compression ") + compression_name(d.compression) + " (" +
                       std::to_string(d.compression) + ")");
  }
  if (photometric == PHOTOMETRIC_YCBCR) {
    if (d.compression != COMPRESSION_JPEG || spp != 3 || d.separate) return unsupported("YCbCr without JPEG");
    d.jpeg_ycbcr = true;
  }
  uint64_t across = (w + static_cast<uint64_t>(d.block_width) - 1) / d.block_width;
  uint64_t down = (h + static_cast<uint64_t>(d.block_height) - 1) / d.block_height;
  if (across * down * (d.separate ? spp : 1) > limits.max_striles) return unsupported("too many tiles");
  d.blocks_across = static_cast<int>(across);
  d.blocks_down = static_cast<int>(down);
  if (d.decoded_row_bytes() * d.block_height > limits.max_block_bytes) return unsupported("blocks too large");
  return d;
}

// Reads the directory's strile offsets and byte counts (libtiff loads the arrays now).
Status load_striles(TiffHandle& h, Directory& d, uint64_t& strile_budget) {
  TIFF* tif = h.get();
  uint64_t n = static_cast<uint64_t>(d.blocks_across) * d.blocks_down * (d.separate ? d.samples : 1);
  if ((d.tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif)) != n)
    return corrupt("wrong number of tiles or strips");
  if (n > strile_budget) return unsupported("too many tiles");
  strile_budget -= n;
  d.offsets.resize(n);
  d.byte_counts.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    int err = 0;
    d.offsets[i] = TIFFGetStrileOffsetWithErr(tif, i, &err);
    if (!err) d.byte_counts[i] = TIFFGetStrileByteCountWithErr(tif, i, &err);
    if (err) return h.take_error("cannot read the tile offsets");
  }
  return ok_status();
}

// TIFF_VARIABLE fields pass a uint16 count, TIFF_VARIABLE2 ones a uint32.
std::vector<double> get_doubles(TIFF* tif, ttag_t tag) {
  const TIFFField* f = TIFFFindField(tif, tag, TIFF_ANY);
  if (!f || !TIFFFieldPassCount(f)) return {};
  double* data = nullptr;
  if (TIFFFieldReadCount(f) == TIFF_VARIABLE2) {
    uint32_t n = 0;
    if (TIFFGetField(tif, tag, &n, &data) && data) return {data, data + n};
  } else {
    uint16_t n = 0;
    if (TIFFGetField(tif, tag, &n, &data) && data) return {data, data + n};
  }
  return {};
}

std::string get_ascii(TIFF* tif, ttag_t tag) {
  const char* text = nullptr;
  if (TIFFGetField(tif, tag, &text) && text) return text;
  return {};
}

void gtif_error(GTIF*, int, const char*, ...) {}  // a broken GeoKey directory just means no CRS

// GTIFGetProj4Defn prints the definition's numbers with "%f" into fixed buffers of a few
// hundred bytes: an ellipsoid axis of 1e300 (a hostile file) overflows them and glibc's
// fortify aborts the process. Real parameters are far below 1e12.
bool printable(const GTIFDefn& d) {
  const auto sane = [](double v) { return std::isfinite(v) && std::abs(v) < 1e12; };
  if (!sane(d.SemiMajor) || !sane(d.SemiMinor) || !sane(d.PMLongToGreenwich) || !sane(d.UOMLengthInMeters) ||
      !sane(d.UOMAngleInDegrees) || d.nParms < 0 || d.nParms > MAX_GTIF_PROJPARMS) {
    return false;
  }
  for (int i = 0; i < d.nParms; ++i) {
    if (!sane(d.ProjParm[i])) return false;
  }
  return true;
}

void read_crs(TIFF* tif, RasterInfo& info, bool& pixel_is_point) {
  GTIF* gtif = GTIFNewEx(tif, gtif_error, nullptr);
  if (!gtif) return;
  unsigned short model = 0, raster_type = RasterPixelIsArea, pcs = 0, gcs = 0;
  GTIFKeyGetSHORT(gtif, GTModelTypeGeoKey, &model, 0, 1);
  GTIFKeyGetSHORT(gtif, GTRasterTypeGeoKey, &raster_type, 0, 1);
  GTIFKeyGetSHORT(gtif, ProjectedCSTypeGeoKey, &pcs, 0, 1);
  GTIFKeyGetSHORT(gtif, GeographicTypeGeoKey, &gcs, 0, 1);
  pixel_is_point = raster_type == RasterPixelIsPoint;
  // Some writers leave out the model type: a valid code still names the CRS.
  int code = 0;
  if (model != ModelTypeGeographic && pcs > 0 && pcs < KvUserDefined) {
    code = pcs;
  } else if (model != ModelTypeProjected && gcs > 0 && gcs < KvUserDefined) {
    code = gcs;
  }
  if (code != 0) {
    info.crs.epsg = code;
    info.crs.definition = "EPSG:" + std::to_string(code);
  } else if (model != 0) {
    // User-defined: let libgeotiff (with PROJ) normalise the keys into a PROJ string.
    // A PROJ context of our own: the default one must not be shared between threads.
    PJ_CONTEXT* ctx = proj_context_create();
    GTIFAttachPROJContext(gtif, ctx);
    GTIFDefn* defn = GTIFAllocDefn();
    if (GTIFGetDefn(gtif, defn) && defn->DefnSet && printable(*defn)) {
      if (char* proj = GTIFGetProj4Defn(defn)) {
        if (*proj) info.crs.definition = proj;
        GTIFFreeMemory(proj);
      }
    }
    GTIFFreeDefn(defn);
    GTIFFree(gtif);
    proj_context_destroy(ctx);
    return;
  }
  GTIFFree(gtif);
}

// As GDAL does it: one tiepoint with a pixel scale, else a transformation matrix; a
// PixelIsPoint raster moves the origin by half a pixel (GTIFF_POINT_GEO_IGNORE=NO).
void read_transform(TIFF* tif, RasterInfo& info, bool pixel_is_point) {
  GeoTransform t{0, 1, 0, 0, 0, 1};
  bool valid = false;
  auto scale = get_doubles(tif, kTagGeoPixelScale);
  auto ties = get_doubles(tif, kTagGeoTiePoints);
  auto matrix = get_doubles(tif, kTagGeoTransMatrix);
  if (scale.size() >= 2 && scale[0] != 0 && scale[1] != 0 && ties.size() >= 6) {
    t[1] = scale[0];
    t[5] = -scale[1];
    t[0] = ties[3] - ties[0] * t[1];
    t[3] = ties[4] - ties[1] * t[5];
    valid = true;
  } else if (matrix.size() == 16) {
    t = {matrix[3], matrix[0], matrix[1], matrix[7], matrix[4], matrix[5]};
    valid = true;
  }
  if (valid && pixel_is_point) {
    t[0] -= t[1] * 0.5 + t[2] * 0.5;
    t[3] -= t[4] * 0.5 + t[5] * 0.5;
  }
  info.transform = t;
}

std::optional<double> parse_nodata(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return std::nullopt;
  return v;
}

// <GDALMetadata><Item name="SCALE" sample="0" role="scale">0.01</Item>...</GDALMetadata>
void read_gdal_metadata(const std::string& xml, RasterInfo& info) {
  pugi::xml_document doc;
  if (xml.empty() || !doc.load_buffer(xml.data(), xml.size())) return;
  for (auto item : doc.child("GDALMetadata").children("Item")) {
    auto sample = item.attribute("sample");
    if (!sample) continue;
    int band = sample.as_int(-1);
    if (band < 0 || band >= info.band_count) continue;
    std::string role = item.attribute("role").as_string();
    std::string value = item.text().as_string();
    if (role == "scale") {
      info.scales[band] = std::strtod(value.c_str(), nullptr);
    } else if (role == "offset") {
      info.offsets[band] = std::strtod(value.c_str(), nullptr);
    } else if (role == "description") {
      info.band_descriptions[band] = value;
    }
  }
}

int alpha_band(TIFF* tif, int samples) {
  uint16_t count = 0;
  uint16_t* types = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &types) || !types || count > samples) return 0;
  for (int i = 0; i < count; ++i) {
    if (types[i] == EXTRASAMPLE_ASSOCALPHA || types[i] == EXTRASAMPLE_UNASSALPHA) return samples - count + i + 1;
  }
  return 0;
}

// The ColorMap tag (2^bits entries of 16-bit red, green, blue) scaled to 8 bits as GDAL
// does: divided by 257, unless every value is below 256 (writers that stored 8-bit values),
// then taken as is. Palettes of 16-bit images (65,536 entries, rare) are not read.
std::vector<std::array<uint8_t, 4>> read_palette(TIFF* tif, const Directory& main) {
  uint16_t bits = 0;
  TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  uint16_t *red = nullptr, *green = nullptr, *blue = nullptr;
  if (main.samples != 1 || bits < 1 || bits > 8 || !TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue)) {
    return {};
  }
  const size_t count = size_t{1} << bits;
  uint16_t max = 0;
  for (size_t i = 0; i < count; ++i) max = std::max({max, red[i], green[i], blue[i]});
  const int divisor = max > 0 && max < 256 ? 1 : 257;
  std::vector<std::array<uint8_t, 4>> palette(count);
  for (size_t i = 0; i < count; ++i) {
    palette[i] = {static_cast<uint8_t>(red[i] / divisor), static_cast<uint8_t>(green[i] / divisor),
                  static_cast<uint8_t>(blue[i] / divisor), 255};
  }
  return palette;
}

void describe_raster(TIFF* tif, const Directory& main, RasterInfo& info) {
  info.width = main.width;
  info.height = main.height;
  info.band_count = main.samples;
  info.type = main.type;
  info.compression = compression_name(main.compression);
  uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  info.photometric = photometric_name(photometric);
  if (photometric == PHOTOMETRIC_PALETTE) info.palette = read_palette(tif, main);
  info.alpha_band = alpha_band(tif, main.samples);
  info.nodata = parse_nodata(get_ascii(tif, kTagGdalNodata));
  info.band_descriptions.assign(main.samples, "");
  info.scales.assign(main.samples, 1.0);
  info.offsets.assign(main.samples, 0.0);
  read_gdal_metadata(get_ascii(tif, kTagGdalMetadata), info);
  bool pixel_is_point = false;
  read_crs(tif, info, pixel_is_point);
  read_transform(tif, info, pixel_is_point);
}

bool compatible_overview(const Directory& o, const Directory& main) {
  return o.samples == main.samples && o.type == main.type && o.bits == main.bits && o.width < main.width &&
         o.height <= main.height;
}

// A reduced level has the main image's aspect: each side is the main's divided by one
// factor, rounded either way (|h W - H w| <= W + H). Aperio's label and macro images
// (the label flagged as a reduced image) do not, and are left out.
bool same_aspect(const Directory& o, const Directory& main) {
  const int64_t lhs = int64_t{o.height} * main.width - int64_t{main.height} * o.width;
  return std::abs(lhs) <= int64_t{main.width} + main.height;
}

// Which IFDs after the first are levels. Marked reduced images (GDAL, vips --pyramid,
// OME-TIFF SubIFDs), and also unmarked ones when tiled like a tiled main image: Aperio
// SVS (and Philips TIFF) mark none of their levels, and keep their strip-organised
// thumbnail, label and macro images in the same chain.
bool is_level(const Directory& o, const Directory& main, bool marked_reduced) {
  if (!compatible_overview(o, main) || !same_aspect(o, main)) return false;
  return marked_reduced || (o.tiled && main.tiled);
}

// The SubIFD offsets of the IFD libtiff is on.
std::vector<uint64_t> sub_ifds(TIFF* tif) {
  uint16_t count = 0;
  uint64_t* offsets = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_SUBIFD, &count, &offsets) || !offsets) return {};
  return {offsets, offsets + count};
}

bool usable_mask(const Directory& m) { return m.samples == 1 && (m.bits == 1 || m.bits == 8) && !m.separate; }

void order_levels(CogHeader& h) {
  std::stable_sort(h.levels.begin() + 1, h.levels.end(),
                   [](const Directory& a, const Directory& b) { return a.width > b.width; });
  // Two overviews of one width: keep the first.
  auto last = std::unique(h.levels.begin() + 1, h.levels.end(),
                          [](const Directory& a, const Directory& b) { return a.width == b.width; });
  h.levels.erase(last, h.levels.end());
  for (const auto& d : h.levels) h.info.levels.push_back({d.width, d.height, d.block_width, d.block_height});
  h.mask_of_level.assign(h.levels.size(), -1);
  for (size_t i = 0; i < h.levels.size(); ++i) {
    for (size_t m = 0; m < h.masks.size(); ++m) {
      if (h.masks[m].width == h.levels[i].width && h.masks[m].height == h.levels[i].height) {
        h.mask_of_level[i] = static_cast<int>(m);
        break;
      }
    }
  }
  h.info.has_mask = h.mask_of_level[0] >= 0;
}

}  // namespace

Result<CogHeader> parse_cog_header(uint64_t file_size, const RangeFetch& fetch, const HeaderLimits& limits) {
  if (file_size < 8) return not_a_tiff();
  auto first = fetch(0, std::min(file_size, kFirstBytes) - 1);
  if (!first) return first.error();
  if (!is_tiff_magic(*first)) return not_a_tiff();
  auto bytes = std::make_shared<SparseBytes>();
  bytes->add(0, std::move(first).value());
  auto handle = TiffHandle::open_fetching(bytes.get(), file_size, fetch, limits.max_header_bytes);
  if (!handle) return handle.error();
  TIFF* tif = handle->get();

  CogHeader h;
  h.file_size = file_size;
  uint64_t strile_budget = limits.max_striles;
  std::vector<uint64_t> subs;
  int ifd = 0;
  for (;; ++ifd) {
    if (ifd >= limits.max_directories) return corrupt("more than " + std::to_string(limits.max_directories) + " IFDs");
    handle->clear_error();
    uint32_t subfile = 0;
    uint16_t photometric = 0;
    TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    bool is_mask = (subfile & FILETYPE_MASK) && photometric == PHOTOMETRIC_MASK;
    bool is_overview = !is_mask && (subfile & FILETYPE_REDUCEDIMAGE);
    auto d = describe_directory(tif, ifd, limits);
    if (ifd == 0) {
      // The first IFD is the image, whatever it claims (as GDAL opens it).
      if (!d) return d.error();
      if (auto st = load_striles(*handle, *d, strile_budget); !st) return st.error();
      describe_raster(tif, *d, h.info);
      subs = sub_ifds(tif);
      h.levels.push_back(std::move(d).value());
    } else if (d && ((!is_mask && is_level(*d, h.levels[0], is_overview)) || (is_mask && usable_mask(*d)))) {
      // Overviews and masks that cannot be read are left out, as GDAL ignores them.
      if (auto st = load_striles(*handle, *d, strile_budget); !st) return st.error();
      (is_mask ? h.masks : h.levels).push_back(std::move(d).value());
    }
    if (!TIFFReadDirectory(tif)) {
      // The end of the chain, or a broken IFD after good ones: keep what was read (as
      // GDAL does), unless the store failed.
      if (handle->has_error()) {
        Error e = handle->take_error("cannot read an IFD");
        if (e.code != ErrorCode::kBadRequest) return e;
      }
      break;
    }
  }
  // The first IFD's SubIFDs (OME-TIFF pyramids): levels when they look like levels; a
  // broken one is skipped as a broken IFD of the chain is.
  for (size_t i = 0; i < subs.size(); ++i) {
    if (++ifd > limits.max_directories) return corrupt("more than " + std::to_string(limits.max_directories) + " IFDs");
    handle->clear_error();
    if (subs[i] == 0 || !TIFFSetSubDirectory(tif, subs[i])) {
      if (handle->has_error()) {
        Error e = handle->take_error("cannot read a SubIFD");
        if (e.code != ErrorCode::kBadRequest) return e;
      }
      continue;
    }
    auto d = describe_directory(tif, kSubIfdBase + static_cast<int>(i), limits);
    if (!d || !is_level(*d, h.levels[0], true)) continue;
    d->sub_offset = subs[i];
    if (auto st = load_striles(*handle, *d, strile_budget); !st) return st.error();
    h.levels.push_back(std::move(d).value());
  }
  order_levels(h);
  h.bytes = std::move(bytes);
  return h;
}

}  // namespace scigate::raster::detail
