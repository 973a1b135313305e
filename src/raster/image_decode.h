// Whole-file decoding of the flat images deep zoom serves besides TIFFs: PNG (libpng) and
// JPEG (libjpeg-turbo's TurboJPEG API). Such files have no random access to parts of the
// image, so they are decoded once, whole, into memory (flat_image.h keeps the result).
//
// The size in the header is checked against `max_pixels` before any pixel memory is
// allocated, so a small file claiming a huge image costs nothing.
//
// Thread safety: the functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace scigate::raster {

enum class ImageKind { kPng, kJpeg, kOther };

// From the first bytes of a file (8 suffice).
ImageKind sniff_image(std::string_view first_bytes);

// Interleaved samples: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; 1 or 2 bytes each (host
// byte order).
struct DecodedImage {
  int width = 0;
  int height = 0;
  int bands = 0;
  int sample_bytes = 1;
  bool alpha = false;  // the last band is alpha
  std::vector<uint8_t> samples;
};

// Failure: kPayloadTooLarge when width x height is above `max_pixels`; kBadRequest
// "corrupt PNG: ..." / "corrupt JPEG: ..." / "unsupported JPEG: ..." (CMYK) / "not a PNG
// or JPEG image".
Result<DecodedImage> decode_image(std::string_view data, int64_t max_pixels);

// The kPayloadTooLarge for a flat image of width x height above `max_pixels`, saying what to do.
Error flat_image_too_large(int64_t width, int64_t height, int64_t max_pixels);

}  // namespace scigate::raster
