#include "raster/deepzoom.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace scigate::raster {

namespace json = boost::json;

// ---- DZI -------------------------------------------------------------------------------

namespace {

int ceil_div(int64_t a, int64_t b) { return static_cast<int>((a + b - 1) / b); }

}  // namespace

int DziLayout::max_level() const {
  const int64_t longest = std::max(width, height);
  int level = 0;
  while ((int64_t{1} << level) < longest) ++level;
  return level;
}

int DziLayout::level_width(int level) const { return ceil_div(width, int64_t{1} << (max_level() - level)); }
int DziLayout::level_height(int level) const { return ceil_div(height, int64_t{1} << (max_level() - level)); }
int DziLayout::columns(int level) const { return ceil_div(level_width(level), tile_size); }
int DziLayout::rows(int level) const { return ceil_div(level_height(level), tile_size); }

Result<DziTile> dzi_tile(const DziLayout& layout, int level, int col, int row) {
  if (level < 0 || level > layout.max_level()) return Error::not_found("no such level");
  if (col < 0 || row < 0 || col >= layout.columns(level) || row >= layout.rows(level)) {
    return Error::not_found("no such tile");
  }
  const int w = layout.level_width(level), h = layout.level_height(level);
  const int x0 = std::max(0, col * layout.tile_size - layout.overlap);
  const int y0 = std::max(0, row * layout.tile_size - layout.overlap);
  const int x1 = std::min(w, (col + 1) * layout.tile_size + layout.overlap);
  const int y1 = std::min(h, (row + 1) * layout.tile_size + layout.overlap);
  // A level pixel covers `scale` level-0 pixels; the last one of an odd-sized level reaches
  // past the image (render_dzi_tile averages only what exists there).
  const double scale = static_cast<double>(int64_t{1} << (layout.max_level() - level));
  DziTile tile;
  tile.window = {x0, y0, x1 - x0, y1 - y0};
  tile.region = {x0 * scale, y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale};
  return tile;
}

std::string dzi_descriptor(const DziLayout& layout, std::string_view format) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\" Format=\"" +
         std::string(format) + "\" Overlap=\"" + std::to_string(layout.overlap) + "\" TileSize=\"" +
         std::to_string(layout.tile_size) + "\">\n  <Size Width=\"" + std::to_string(layout.width) + "\" Height=\"" +
         std::to_string(layout.height) + "\"/>\n</Image>\n";
}

// ---- IIIF ------------------------------------------------------------------------------

namespace {

Error bad(const std::string& what) { return Error::bad_request(what); }
Error not_implemented(const std::string& what) { return {ErrorCode::kNotImplemented, what, what}; }

// A non-negative decimal integer without sign or spaces.
std::optional<int64_t> parse_count(std::string_view text) {
  int64_t v = 0;
  if (text.empty() || text.size() > 12) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

// A non-negative decimal number ("12", "12.5"; no exponent, sign or spaces).
std::optional<double> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return std::nullopt;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "a,b,c,d" into its four parts.
std::optional<std::vector<std::string_view>> four_parts(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.size() != 4) return std::nullopt;
  return parts;
}

int round_positive(double v) { return static_cast<int>(std::max(1.0, std::round(v))); }

}  // namespace

Result<Window> parse_iiif_region(std::string_view text, int image_width, int image_height) {
  if (text == "full") return Window{0, 0, image_width, image_height};
  if (text == "square") {
    const int side = std::min(image_width, image_height);
    return Window{(image_width - side) / 2, (image_height - side) / 2, side, side};
  }
  const bool pct = text.starts_with("pct:");
  auto parts = four_parts(pct ? text.substr(4) : text);
  if (!parts) return bad("region must be full, square, x,y,w,h or pct:x,y,w,h");
  double v[4];
  for (int i = 0; i < 4; ++i) {
    if (pct) {
      auto d = parse_decimal((*parts)[i]);
      if (!d) return bad("region pct: values must be non-negative numbers");
      v[i] = *d / 100.0 * (i % 2 == 0 ? image_width : image_height);
    } else {
      auto n = parse_count((*parts)[i]);
      if (!n) return bad("region x,y,w,h must be non-negative integers");
      v[i] = static_cast<double>(*n);
    }
  }
  // Percentages become whole pixels: the edges rounded, so adjacent regions tile exactly.
  const double x0 = std::round(v[0]), y0 = std::round(v[1]);
  const double x1 = std::min<double>(image_width, std::round(v[0] + v[2]));
  const double y1 = std::min<double>(image_height, std::round(v[1] + v[3]));
  if (v[2] <= 0 || v[3] <= 0) return bad("region width and height must be positive");
  if (x0 >= image_width || y0 >= image_height || x1 <= x0 || y1 <= y0) return bad("region is outside the image");
  return Window{static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1 - x0), static_cast<int>(y1 - y0)};
}

Result<std::pair<int, int>> parse_iiif_size(std::string_view text, const Window& region, const IiifLimits& limits) {
  if (text.starts_with('^')) return bad("upscaling (^ sizes) is not supported");
  const double rw = region.width, rh = region.height;
  int w = 0, h = 0;
  if (text == "max") {
    // The region, shrunk (aspect kept) to what maxArea allows.
    double s = 1;
    if (limits.max_area > 0 && rw * rh > static_cast<double>(limits.max_area))
      s = std::sqrt(static_cast<double>(limits.max_area) / (rw * rh));
    w = static_cast<int>(std::max(1.0, std::floor(rw * s)));
    h = static_cast<int>(std::max(1.0, std::floor(rh * s)));
    return std::pair{w, h};
  }
  if (text.starts_with("pct:")) {
    auto n = parse_decimal(text.substr(4));
    if (!n || *n <= 0) return bad("size pct:n needs a positive number");
    if (*n > 100) return bad("size pct:n above 100 would upscale");
    w = round_positive(rw * *n / 100), h = round_positive(rh * *n / 100);
  } else {
    const bool fit = text.starts_with('!');
    std::string_view body = fit ? text.substr(1) : text;
    size_t comma = body.find(',');
    if (comma == std::string_view::npos) return bad("size must be max, w,, ,h, pct:n, w,h or !w,h");
    std::string_view a = body.substr(0, comma), b = body.substr(comma + 1);
    auto pw = a.empty() ? std::optional<int64_t>() : parse_count(a);
    auto ph = b.empty() ? std::optional<int64_t>() : parse_count(b);
    if ((!a.empty() && !pw) || (!b.empty() && !ph) || (a.empty() && b.empty()) || (fit && (!pw || !ph)))
      return bad("size must be max, w,, ,h, pct:n, w,h or !w,h");
    if ((pw && *pw == 0) || (ph && *ph == 0)) return bad("size width and height must be positive");
    if (fit) {
      const double s = std::min({static_cast<double>(*pw) / rw, static_cast<double>(*ph) / rh, 1.0});
      w = std::min<int>(static_cast<int>(*pw), round_positive(rw * s));
      h = std::min<int>(static_cast<int>(*ph), round_positive(rh * s));
    } else {
      if ((pw && *pw > rw) || (ph && *ph > rh)) return bad("size larger than the region would upscale");
      w = pw ? static_cast<int>(*pw) : round_positive(rw * static_cast<double>(*ph) / rh);
      h = ph ? static_cast<int>(*ph) : round_positive(rh * static_cast<double>(*pw) / rw);
    }
  }
  if (limits.max_area > 0 && int64_t{w} * h > limits.max_area)
    return bad("size " + std::to_string(w) + "x" + std::to_string(h) + " is more than maxArea");
  return std::pair{w, h};
}

Status parse_iiif_rotation(std::string_view text) {
  const bool mirror = text.starts_with('!');
  auto degrees = parse_decimal(mirror ? text.substr(1) : text);
  if (!degrees || *degrees > 360) return bad("rotation must be a number of degrees from 0 to 360");
  if (mirror || (*degrees != 0 && *degrees != 360)) return not_implemented("only rotation 0 is supported");
  return ok_status();
}

Result<std::pair<IiifQuality, ImageFormat>> parse_iiif_quality_format(std::string_view text) {
  size_t dot = text.rfind('.');
  if (dot == std::string_view::npos) return bad("the last segment must be {quality}.{format}");
  std::string_view quality = text.substr(0, dot), format = text.substr(dot + 1);
  IiifQuality q;
  if (quality == "default") {
    q = IiifQuality::kDefault;
  } else if (quality == "color") {
    q = IiifQuality::kColor;
  } else if (quality == "gray") {
    q = IiifQuality::kGray;
  } else if (quality == "bitonal") {
    return not_implemented("quality bitonal is not supported");
  } else {
    return bad("quality must be default, color or gray");
  }
  if (format == "jpg") return std::pair{q, ImageFormat::kJpeg};
  if (format == "png") return std::pair{q, ImageFormat::kPng};
  // The spec's other formats: valid requests this server does not implement.
  for (const char* known : {"tif", "gif", "pdf", "jp2", "webp"}) {
    if (format == known) return not_implemented("format " + std::string(format) + " is not supported");
  }
  return bad("format must be jpg or png");
}

Result<IiifRequest> parse_iiif_request(std::string_view region, std::string_view size, std::string_view rotation,
                                       std::string_view quality_format, int image_width, int image_height,
                                       const IiifLimits& limits) {
  IiifRequest r;
  auto reg = parse_iiif_region(region, image_width, image_height);
  if (!reg) return reg.error();
  r.region = *reg;
  auto wh = parse_iiif_size(size, r.region, limits);
  if (!wh) return wh.error();
  std::tie(r.width, r.height) = *wh;
  if (auto s = parse_iiif_rotation(rotation); !s) return s.error();
  auto qf = parse_iiif_quality_format(quality_format);
  if (!qf) return qf.error();
  std::tie(r.quality, r.format) = *qf;
  return r;
}

json::object iiif_info(const std::string& id, int width, int height, int tile_size, const IiifLimits& limits) {
  json::array factors, sizes;
  for (int64_t f = 1;; f *= 2) {
    factors.push_back(f);
    const int64_t w = (width + f - 1) / f, h = (height + f - 1) / f;
    if (limits.max_area <= 0 || w * h <= limits.max_area) sizes.push_back({{"width", w}, {"height", h}});
    if (w <= tile_size && h <= tile_size) break;
  }
  std::reverse(sizes.begin(), sizes.end());  // smallest first, as the spec's examples
  json::object info{
      {"@context", "http://iiif.io/api/image/3/context.json"},
      {"id", id},
      {"type", "ImageService3"},
      {"protocol", "http://iiif.io/api/image"},
      {"profile", "level1"},
      {"width", width},
      {"height", height},
      {"tiles", json::array{json::object{{"width", tile_size}, {"scaleFactors", factors}}}},
      {"sizes", sizes},
      {"extraQualities", json::array{"color", "gray"}},
      {"extraFeatures", json::array{"regionSquare", "sizeByPct", "sizeByConfinedWh"}},
  };
  if (limits.max_area > 0) info["maxArea"] = limits.max_area;
  return info;
}

// ---- Pixels --------------------------------------------------------------------------

std::vector<int> display_bands(const RasterInfo& info) {
  std::vector<int> colour;
  for (int b = 1; b <= info.band_count && colour.size() < 3; ++b) {
    if (b != info.alpha_band) colour.push_back(b);
  }
  if (colour.size() == 2) colour.resize(1);
  return colour;
}

namespace {

void to_gray(Image& image) {
  if (image.bands.size() < 3) return;
  auto& r = image.bands[0];
  const auto& g = image.bands[1];
  const auto& b = image.bands[2];
  const bool integer = image.type != DataType::kFloat32 && image.type != DataType::kFloat64;
  for (size_t i = 0; i < r.size(); ++i) {
    const double y = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];  // ITU-R BT.601 luma, as libvips and PIL
    r[i] = integer ? std::round(y) : y;
  }
  image.bands.resize(1);
}

Result<Image> read_display(RasterSource& source, const PixelRegion& region, int width, int height) {
  ReadOptions options;
  options.bands = display_bands(source.info());
  options.resampling = Resampling::kAverage;
  return resample_pixels(source, region, width, height, options);
}

Result<Rendered> encode_display(Image image, IiifQuality quality, ImageFormat format, int png_level) {
  if (quality == IiifQuality::kGray) to_gray(image);
  RenderOptions render_options;
  render_options.format = format;
  render_options.png_level = png_level;
  // An alpha band or mask becomes PNG alpha; JPEG has none.
  render_options.add_mask = format == ImageFormat::kPng &&
                            std::any_of(image.valid.begin(), image.valid.end(), [](uint8_t v) { return v == 0; });
  return render(std::move(image), render_options);
}

// Fills the pixels of `image` at (x, y) that are invalid with the valid ones of `part`.
void fill_invalid(Image& image, const Image& part, int x, int y) {
  for (int r = 0; r < part.height; ++r) {
    for (int c = 0; c < part.width; ++c) {
      if (!part.is_valid(c, r) || image.is_valid(x + c, y + r)) continue;
      const size_t o = static_cast<size_t>(y + r) * image.width + (x + c);
      for (size_t b = 0; b < image.bands.size(); ++b) image.bands[b][o] = part.at(b, c, r);
      image.valid[o] = 255;
    }
  }
}

}  // namespace

Result<Rendered> render_pixels(RasterSource& source, const PixelRegion& region, int width, int height,
                               IiifQuality quality, ImageFormat format, int png_level) {
  auto image = read_display(source, region, width, height);
  if (!image) return image.error();
  return encode_display(std::move(image).value(), quality, format, png_level);
}

Result<Rendered> render_dzi_tile(RasterSource& source, const DziTile& tile, ImageFormat format, int png_level) {
  const int w = tile.window.width, h = tile.window.height;
  auto image = read_display(source, tile.region, w, h);
  if (!image) return image.error();
  // The area kernel (as GDAL's) drops an output pixel whose centre is outside the source:
  // the last column and row of an odd-sized level, which cover less than half a level
  // pixel of image, unless the source has that level itself (flat_image.h). Read those
  // again over the part that exists (as vips's edge copy gives).
  const RasterInfo& info = source.info();
  const double sx = tile.region.width / w, sy = tile.region.height / h;
  const double last_x = tile.region.x + (w - 1) * sx, last_y = tile.region.y + (h - 1) * sy;
  const bool right = tile.region.x + tile.region.width > info.width;
  const bool bottom = tile.region.y + tile.region.height > info.height;
  struct Part {
    bool wanted;
    PixelRegion region;
    int width, height, x, y;
  };
  for (const Part& p :
       {Part{right, {last_x, tile.region.y, info.width - last_x, tile.region.height}, 1, h, w - 1, 0},
        Part{bottom, {tile.region.x, last_y, tile.region.width, info.height - last_y}, w, 1, 0, h - 1},
        Part{right && bottom, {last_x, last_y, info.width - last_x, info.height - last_y}, 1, 1, w - 1, h - 1}}) {
    if (!p.wanted) continue;
    auto part = read_display(source, p.region, p.width, p.height);
    if (!part) return part.error();
    fill_invalid(*image, *part, p.x, p.y);
  }
  return encode_display(std::move(image).value(), IiifQuality::kDefault, format, png_level);
}

}  // namespace scigate::raster
