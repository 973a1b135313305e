#include "raster/encoders.h"

#include <geotiff/geotiffio.h>
#include <geotiff/xtiffio.h>
#include <png.h>
#include <tiffio.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace scigate::raster {
namespace {

// Interleaves planes into bytes of `bytes_per_sample` (big-endian for 16-bit PNG).
std::vector<uint8_t> interleave8(const Planes& p) {
  const size_t n = static_cast<size_t>(p.width) * p.height, bands = p.bands.size();
  std::vector<uint8_t> out(n * bands);
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < bands; ++b) {
      out[i * bands + b] = static_cast<uint8_t>(std::clamp(p.bands[b][i], 0.0, 255.0));
    }
  }
  return out;
}

std::vector<uint8_t> interleave16be(const Planes& p) {
  const size_t n = static_cast<size_t>(p.width) * p.height, bands = p.bands.size();
  std::vector<uint8_t> out(n * bands * 2);
  for (size_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < bands; ++b) {
      const auto v = static_cast<uint16_t>(std::clamp(p.bands[b][i], 0.0, 65535.0));
      out[(i * bands + b) * 2] = static_cast<uint8_t>(v >> 8);
      out[(i * bands + b) * 2 + 1] = static_cast<uint8_t>(v & 0xFF);
    }
  }
  return out;
}

Status check_size(const Planes& p) {
  if (p.width <= 0 || p.height <= 0 || p.bands.empty()) return Error::bad_request("empty image");
  for (const auto& b : p.bands) {
    if (b.size() != static_cast<size_t>(p.width) * p.height) return Error::internal_error("plane size mismatch");
  }
  return ok_status();
}

Error cannot_encode(const Planes& p, const char* driver) {
  return Error::bad_request("Could not encode array of shape (" + std::to_string(p.bands.size()) + "," +
                            std::to_string(p.height) + "," + std::to_string(p.width) + ") and of datatype `" +
                            data_type_name(p.type) + "` using " + driver + " driver");
}

void png_write_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}
void png_flush_noop(png_structp) {}

// Kept free of C++ objects with destructors: libpng reports errors by longjmp.
bool write_png(std::string* out, const uint8_t* pixels, int width, int height, int color_type, int depth,
               size_t row_bytes, int zlevel) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, png_write_to_string, png_flush_noop);
  png_set_compression_level(png, zlevel);
  png_set_IHDR(png, info, width, height, depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int r = 0; r < height; ++r) png_write_row(png, const_cast<uint8_t*>(pixels + r * row_bytes));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

// --- in-memory TIFF file for libtiff

struct MemoryFile {
  std::string data;
  toff_t pos = 0;
};

tmsize_t mem_read(thandle_t h, void* buf, tmsize_t size) {
  auto* f = static_cast<MemoryFile*>(h);
  const tmsize_t n = std::max<tmsize_t>(0, std::min<tmsize_t>(size, f->data.size() - f->pos));
  std::memcpy(buf, f->data.data() + f->pos, n);
  f->pos += n;
  return n;
}
tmsize_t mem_write(thandle_t h, void* buf, tmsize_t size) {
  auto* f = static_cast<MemoryFile*>(h);
  if (f->pos + size > f->data.size()) f->data.resize(f->pos + size);
  std::memcpy(f->data.data() + f->pos, buf, size);
  f->pos += size;
  return size;
}
toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  if (whence == SEEK_SET) f->pos = off;
  if (whence == SEEK_CUR) f->pos += off;
  if (whence == SEEK_END) f->pos = f->data.size() + off;
  return f->pos;
}
int mem_close(thandle_t) { return 0; }
toff_t mem_size(thandle_t h) { return static_cast<MemoryFile*>(h)->data.size(); }
int mem_map(thandle_t, void**, toff_t*) { return 0; }
void mem_unmap(thandle_t, void*, toff_t) {}

struct TiffType {
  uint16_t bits;
  uint16_t format;
};
TiffType tiff_type(DataType t) {
  switch (t) {
    case DataType::kUInt8:
      return {8, SAMPLEFORMAT_UINT};
    case DataType::kInt8:
      return {8, SAMPLEFORMAT_INT};
    case DataType::kUInt16:
      return {16, SAMPLEFORMAT_UINT};
    case DataType::kInt16:
      return {16, SAMPLEFORMAT_INT};
    case DataType::kUInt32:
      return {32, SAMPLEFORMAT_UINT};
    case DataType::kInt32:
      return {32, SAMPLEFORMAT_INT};
    case DataType::kFloat32:
      return {32, SAMPLEFORMAT_IEEEFP};
    case DataType::kFloat64:
      return {64, SAMPLEFORMAT_IEEEFP};
  }
  return {8, SAMPLEFORMAT_UINT};
}

// Writes `v` as `type` in host (little-endian) order at `out`; integer types saturate
// (a cast of an out-of-range double would be undefined).
void store(DataType type, double v, uint8_t* out) {
  const auto put = [&](auto x) { std::memcpy(out, &x, sizeof(x)); };
  if (type != DataType::kFloat32 && type != DataType::kFloat64) {
    static const std::pair<double, double> kRanges[] = {
        {0, 255}, {-128, 127}, {0, 65535}, {-32768, 32767}, {0, 4294967295.0}, {-2147483648.0, 2147483647.0}};
    const auto [lo, hi] = kRanges[static_cast<int>(type)];
    v = std::isnan(v) ? 0 : std::clamp(v, lo, hi);
  }
  switch (type) {
    case DataType::kUInt8:
      put(static_cast<uint8_t>(v));
      break;
    case DataType::kInt8:
      put(static_cast<int8_t>(v));
      break;
    case DataType::kUInt16:
      put(static_cast<uint16_t>(v));
      break;
    case DataType::kInt16:
      put(static_cast<int16_t>(v));
      break;
    case DataType::kUInt32:
      put(static_cast<uint32_t>(v));
      break;
    case DataType::kInt32:
      put(static_cast<int32_t>(v));
      break;
    case DataType::kFloat32:
      put(static_cast<float>(v));
      break;
    case DataType::kFloat64:
      put(v);
      break;
  }
}

int epsg_of(const Crs& crs) {
  if (crs.epsg != 0) return crs.epsg;
  const std::string s = crs_string(crs);
  if (s == "OGC:CRS84") return 4326;  // the same datum; GeoTIFF has no axis order to flip
  if (s.rfind("EPSG:", 0) == 0) return std::atoi(s.c_str() + 5);
  return 0;
}

void write_geokeys(TIFF* tif, const Planes& p, const Crs& crs, const Bounds& bounds) {
  double scale[3] = {bounds.width() / p.width, bounds.height() / p.height, 0};
  double tiepoint[6] = {0, 0, 0, bounds.left, bounds.top, 0};
  TIFFSetField(tif, TIFFTAG_GEOPIXELSCALE, 3, scale);
  TIFFSetField(tif, TIFFTAG_GEOTIEPOINTS, 6, tiepoint);
  GTIF* gtif = GTIFNew(tif);
  if (gtif == nullptr) return;
  const int epsg = epsg_of(crs);
  const bool geographic = is_geographic(crs);
  GTIFKeySet(gtif, GTModelTypeGeoKey, TYPE_SHORT, 1, geographic ? ModelTypeGeographic : ModelTypeProjected);
  GTIFKeySet(gtif, GTRasterTypeGeoKey, TYPE_SHORT, 1, RasterPixelIsArea);
  if (epsg != 0) {
    GTIFKeySet(gtif, geographic ? GeographicTypeGeoKey : ProjectedCSTypeGeoKey, TYPE_SHORT, 1, epsg);
  }
  GTIFWriteKeys(gtif);
  GTIFFree(gtif);
}

}  // namespace

Result<std::string> encode_png(const Planes& p, int zlevel) {
  if (auto s = check_size(p); !s) return s.error();
  const size_t bands = p.bands.size();
  if (bands > 4 || (p.type != DataType::kUInt8 && p.type != DataType::kUInt16)) return cannot_encode(p, "PNG");
  static const int kColorTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  const bool sixteen = p.type == DataType::kUInt16;
  const std::vector<uint8_t> pixels = sixteen ? interleave16be(p) : interleave8(p);
  std::string out;
  const size_t row_bytes = static_cast<size_t>(p.width) * bands * (sixteen ? 2 : 1);
  if (!write_png(&out, pixels.data(), p.width, p.height, kColorTypes[bands - 1], sixteen ? 16 : 8, row_bytes, zlevel)) {
    return Error::internal_error("libpng failed to encode");
  }
  return out;
}

Result<std::string> encode_jpeg(const Planes& p, int quality) {
  if (auto s = check_size(p); !s) return s.error();
  const size_t bands = p.bands.size();
  if (p.type != DataType::kUInt8 || (bands != 1 && bands != 3)) return cannot_encode(p, "JPEG");
  const std::vector<uint8_t> pixels = interleave8(p);
  tjhandle handle = tjInitCompress();
  if (handle == nullptr) return Error::internal_error("tjInitCompress failed");
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool gray = bands == 1;
  const int rc = tjCompress2(handle, pixels.data(), p.width, 0, p.height, gray ? TJPF_GRAY : TJPF_RGB, &buffer, &size,
                             gray ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
  std::string out;
  if (rc == 0) out.assign(reinterpret_cast<const char*>(buffer), size);
  const std::string message = rc == 0 ? "" : tjGetErrorStr2(handle);
  tjFree(buffer);
  tjDestroy(handle);
  if (rc != 0) return Error::internal_error("libturbojpeg: " + message);
  return out;
}

Result<std::string> encode_webp(const Planes& p, float quality) {
  if (auto s = check_size(p); !s) return s.error();
  const size_t bands = p.bands.size();
  if (p.type != DataType::kUInt8 || (bands != 3 && bands != 4)) return cannot_encode(p, "WEBP");
  if (p.width > WEBP_MAX_DIMENSION || p.height > WEBP_MAX_DIMENSION) return cannot_encode(p, "WEBP");
  const std::vector<uint8_t> pixels = interleave8(p);
  uint8_t* buffer = nullptr;
  const int stride = static_cast<int>(p.width * bands);
  const size_t size = bands == 4 ? WebPEncodeRGBA(pixels.data(), p.width, p.height, stride, quality, &buffer)
                                 : WebPEncodeRGB(pixels.data(), p.width, p.height, stride, quality, &buffer);
  if (size == 0) return Error::internal_error("libwebp failed to encode");
  std::string out(reinterpret_cast<const char*>(buffer), size);
  WebPFree(buffer);
  return out;
}

Result<std::string> encode_geotiff(const Planes& p, const Crs& crs, const Bounds& bounds) {
  if (auto s = check_size(p); !s) return s.error();
  const uint16_t bands = static_cast<uint16_t>(p.bands.size());
  const TiffType tt = tiff_type(p.type);
  MemoryFile file;
  TIFF* tif =
      XTIFFClientOpen("memory.tif", "w", &file, mem_read, mem_write, mem_seek, mem_close, mem_size, mem_map, mem_unmap);
  if (tif == nullptr) return Error::internal_error("libtiff could not open a memory file");
  const uint16_t color = bands - (p.alpha ? 1 : 0);
  const bool rgb = p.type == DataType::kUInt8 && color == 3;
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(p.width));
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(p.height));
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, bands);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, tt.bits);
  TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, tt.format);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, rgb ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
  const uint16_t extra = bands - (rgb ? 3 : 1);
  if (extra > 0) {
    std::vector<uint16_t> kinds(extra, EXTRASAMPLE_UNSPECIFIED);
    if (p.alpha) kinds.back() = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, extra, kinds.data());
  }
  const size_t sample = tt.bits / 8, row_bytes = static_cast<size_t>(p.width) * bands * sample;
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, std::max<uint32_t>(1, static_cast<uint32_t>(65536 / row_bytes)));
  write_geokeys(tif, p, crs, bounds);
  std::vector<uint8_t> row(row_bytes);
  bool ok = true;
  for (int r = 0; r < p.height && ok; ++r) {
    for (int c = 0; c < p.width; ++c) {
      for (uint16_t b = 0; b < bands; ++b) {
        store(p.type, p.bands[b][static_cast<size_t>(r) * p.width + c], &row[(c * bands + b) * sample]);
      }
    }
    ok = TIFFWriteScanline(tif, row.data(), r, 0) == 1;
  }
  XTIFFClose(tif);
  if (!ok) return Error::internal_error("libtiff failed to write");
  return std::move(file.data);
}

Result<std::string> encode_npy(const Planes& p) {
  if (auto s = check_size(p); !s) return s.error();
  static const char* kDescr[] = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"};
  std::string header = "{'descr': '" + std::string(kDescr[static_cast<int>(p.type)]) +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(p.bands.size()) + ", " +
                       std::to_string(p.height) + ", " + std::to_string(p.width) + "), }";
  // numpy pads the header with spaces and a newline so that the data starts 64-aligned.
  const size_t prefix = 10;  // magic (6), version (2), header length (2)
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const size_t bytes = data_type_bytes(p.type), n = static_cast<size_t>(p.width) * p.height;
  const size_t start = out.size();
  out.resize(start + bytes * n * p.bands.size());
  auto* dst = reinterpret_cast<uint8_t*>(out.data() + start);
  for (const auto& band : p.bands) {
    for (size_t i = 0; i < n; ++i, dst += bytes) store(p.type, band[i], dst);
  }
  return out;
}

}  // namespace scigate::raster
