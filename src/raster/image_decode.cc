#include "raster/image_decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <cstring>
#include <string>

namespace scigate::raster {

namespace {

constexpr uint8_t kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
// libpng refuses images beyond these sides before allocating anything.
constexpr uint32_t kMaxSide = 1 << 20;

// ---- PNG -------------------------------------------------------------------------------

struct PngInput {
  std::string_view data;
  size_t pos = 0;
  char message[200] = {0};  // libpng's error, copied before its longjmp
};

void png_read(png_structp png, png_bytep out, png_size_t n) {
  auto* in = static_cast<PngInput*>(png_get_io_ptr(png));
  if (n > in->data.size() - in->pos) png_error(png, "file truncated");
  std::memcpy(out, in->data.data() + in->pos, n);
  in->pos += n;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* in = static_cast<PngInput*>(png_get_error_ptr(png));
  std::snprintf(in->message, sizeof(in->message), "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

// What decode_png found in the header, and where it failed. Kept apart from the C++
// objects with destructors: libpng reports errors by longjmp.
enum class PngStep { kOk, kCorrupt, kTooLarge };

struct PngHeader {
  uint32_t width = 0, height = 0;
  int channels = 0, bit_depth = 0;
};

PngStep read_png(PngInput* in, int64_t max_pixels, PngHeader* header, DecodedImage* out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, in, png_on_error, png_on_warning);
  if (png == nullptr) return PngStep::kCorrupt;
  png_infop info = png_create_info_struct(png);
  // Volatile: assigned after setjmp and read after a longjmp.
  png_bytep* volatile rows = nullptr;
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_free(png, rows);
    png_destroy_read_struct(&png, &info, nullptr);
    return PngStep::kCorrupt;
  }
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_set_read_fn(png, in, png_read);
  png_read_info(png, info);
  // Palette to RGB, gray below 8 bits to 8, tRNS to an alpha band; 16-bit samples in host order.
  png_set_expand(png);
  if (png_get_bit_depth(png, info) == 16) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->width = png_get_image_width(png, info);
  header->height = png_get_image_height(png, info);
  header->channels = png_get_channels(png, info);
  header->bit_depth = png_get_bit_depth(png, info);
  if (static_cast<int64_t>(header->width) * header->height > max_pixels) {
    png_destroy_read_struct(&png, &info, nullptr);
    return PngStep::kTooLarge;
  }
  const size_t row_bytes = png_get_rowbytes(png, info);
  out->samples.resize(row_bytes * header->height);
  rows = static_cast<png_bytep*>(png_malloc(png, sizeof(png_bytep) * header->height));
  for (uint32_t r = 0; r < header->height; ++r) rows[r] = out->samples.data() + r * row_bytes;
  png_read_image(png, rows);
  png_free(png, rows);
  png_destroy_read_struct(&png, &info, nullptr);
  return PngStep::kOk;
}

Result<DecodedImage> decode_png(std::string_view data, int64_t max_pixels) {
  PngInput in{data};
  PngHeader header;
  DecodedImage out;
  switch (read_png(&in, max_pixels, &header, &out)) {
    case PngStep::kCorrupt:
      return Error::bad_request(std::string("corrupt PNG: ") + (in.message[0] ? in.message : "cannot decode"));
    case PngStep::kTooLarge:
      return flat_image_too_large(header.width, header.height, max_pixels);
    case PngStep::kOk:
      break;
  }
  if (header.channels < 1 || header.channels > 4 || (header.bit_depth != 8 && header.bit_depth != 16))
    return Error::bad_request("corrupt PNG: unexpected sample layout");
  out.width = static_cast<int>(header.width);
  out.height = static_cast<int>(header.height);
  out.bands = header.channels;
  out.sample_bytes = header.bit_depth / 8;
  out.alpha = header.channels == 2 || header.channels == 4;
  return out;
}

// ---- JPEG ------------------------------------------------------------------------------

struct TjHandle {
  tjhandle h = tjInitDecompress();
  ~TjHandle() {
    if (h) tjDestroy(h);
  }
};

Result<DecodedImage> decode_jpeg(std::string_view data, int64_t max_pixels) {
  TjHandle tj;
  if (!tj.h) return Error::internal_error("tjInitDecompress failed");
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.h, bytes, data.size(), &width, &height, &subsampling, &colorspace) != 0)
    return Error::bad_request(std::string("corrupt JPEG: ") + tjGetErrorStr2(tj.h));
  if (width <= 0 || height <= 0) return Error::bad_request("corrupt JPEG: bad image size");
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) return Error::bad_request("unsupported JPEG: CMYK");
  if (int64_t{width} * height > max_pixels) return flat_image_too_large(width, height, max_pixels);
  const bool gray = colorspace == TJCS_GRAY;
  DecodedImage out;
  out.width = width;
  out.height = height;
  out.bands = gray ? 1 : 3;
  out.samples.resize(static_cast<size_t>(width) * height * out.bands);
  // Accurate DCT and smooth upsampling: libjpeg's defaults, as vips decodes.
  if (tjDecompress2(tj.h, bytes, data.size(), out.samples.data(), width, 0, height, gray ? TJPF_GRAY : TJPF_RGB, 0) !=
          0 &&
      tjGetErrorCode(tj.h) != TJERR_WARNING) {
    // A warning (a truncated or slightly damaged stream) still decodes what is there.
    return Error::bad_request(std::string("corrupt JPEG: ") + tjGetErrorStr2(tj.h));
  }
  return out;
}

}  // namespace

Error flat_image_too_large(int64_t width, int64_t height, int64_t max_pixels) {
  return {ErrorCode::kPayloadTooLarge, "flat image too large",
          "the image is " + std::to_string(width) + "x" + std::to_string(height) +
              " pixels without reduced-resolution levels, more than raster.deepzoom.max_flat_pixels (" +
              std::to_string(max_pixels) + "): store it as a pyramidal TIFF (e.g. vips tiffsave --tile --pyramid)"};
}

ImageKind sniff_image(std::string_view b) {
  if (b.size() >= 8 && std::memcmp(b.data(), kPngMagic, 8) == 0) return ImageKind::kPng;
  if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xff && static_cast<uint8_t>(b[1]) == 0xd8 &&
      static_cast<uint8_t>(b[2]) == 0xff) {
    return ImageKind::kJpeg;
  }
  return ImageKind::kOther;
}

Result<DecodedImage> decode_image(std::string_view data, int64_t max_pixels) {
  switch (sniff_image(data)) {
    case ImageKind::kPng:
      return decode_png(data, max_pixels);
    case ImageKind::kJpeg:
      return decode_jpeg(data, max_pixels);
    case ImageKind::kOther:
      break;
  }
  return Error::bad_request("not a PNG or JPEG image");
}

}  // namespace scigate::raster
