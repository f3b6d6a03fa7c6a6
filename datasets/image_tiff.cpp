// TIFF through libtiff: one page, one sample per pixel, 8-64 bit unsigned, signed or IEEE float samples, in
// strips or tiles, any compression libtiff decodes. libtiff's messages are collected per file (TIFFOpenExt
// handlers) and put in the error instead of being printed.
#include <tiffio.h>

#include <algorithm>
#include <bit>
#include <cstdarg>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "datasets/image_formats.hpp"
#include "base/error.hpp"

namespace xrd::image_io::detail {

namespace {

int collect(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  auto& s = *static_cast<std::string*>(user);
  if (s.empty()) s = (module && *module ? std::string(module) + ": " : std::string()) + buf;
  return 1;
}

int ignore(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

Image read_tiff(const std::filesystem::path& p) {
  const std::string name = p.string();
  std::string message;
  std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> opts(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
  TIFFOpenOptionsSetErrorHandlerExtR(opts.get(), collect, &message);
  TIFFOpenOptionsSetWarningHandlerExtR(opts.get(), ignore, nullptr);
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(TIFFOpenExt(name.c_str(), "r", opts.get()), TIFFClose);
  auto fail = [&](const std::string& where, const std::string& what) {
    throw Error(name, where, what + (message.empty() ? "" : " (libtiff: " + message + ")"));
  };
  if (!tif) fail("", "not a readable TIFF file");

  uint32_t width = 0, height = 0;
  uint16_t bits = 1, samples = 1, format = SAMPLEFORMAT_UINT;
  if (!TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height) ||
      width == 0 || height == 0)
    fail("tag ImageWidth/ImageLength", "missing or zero: expected the image size");
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  if (samples != 1)
    fail("tag SamplesPerPixel", std::to_string(samples) + " samples per pixel: expected 1 (a grey-level image)");
  Scalar t{};
  const bool ok = [&] {
    switch (format) {
      case SAMPLEFORMAT_UINT:
        if (bits == 8) return t = Scalar::u8, true;
        if (bits == 16) return t = Scalar::u16, true;
        if (bits == 32) return t = Scalar::u32, true;
        if (bits == 64) return t = Scalar::u64, true;
        return false;
      case SAMPLEFORMAT_INT:
        if (bits == 8) return t = Scalar::i8, true;
        if (bits == 16) return t = Scalar::i16, true;
        if (bits == 32) return t = Scalar::i32, true;
        if (bits == 64) return t = Scalar::i64, true;
        return false;
      case SAMPLEFORMAT_IEEEFP:
        if (bits == 32) return t = Scalar::f32, true;
        if (bits == 64) return t = Scalar::f64, true;
        return false;
      default:
        return false;
    }
  }();
  if (!ok)
    fail("tag BitsPerSample/SampleFormat",
         std::to_string(bits) + "-bit samples of format " + std::to_string(format) +
             ": expected 8/16/32/64-bit unsigned (1) or signed (2) integers, or 32/64-bit floats (3)");
  if (TIFFNumberOfDirectories(tif.get()) > 1)
    fail("", "the TIFF file holds " + std::to_string(TIFFNumberOfDirectories(tif.get())) +
                 " pages: expected one image");

  check_extent(name, "tag ImageWidth/ImageLength", width, height);
  const size_t n = size_of(t);
  std::error_code ec;
  const auto stored = std::filesystem::file_size(p, ec);
  check_decoded_size(name, "tag ImageWidth/ImageLength", size_t(width) * height * n, ec ? 0 : size_t(stored));
  std::vector<uint8_t> raw(size_t(width) * height * n);
  if (TIFFIsTiled(tif.get())) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif.get(), TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif.get(), TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0 || static_cast<size_t>(TIFFTileSize(tif.get())) != size_t(tw) * th * n)
      fail("tag TileWidth/TileLength", "unexpected tile size: expected TileWidth x TileLength x " +
                                           std::to_string(n) + " bytes per tile");
    std::vector<uint8_t> tile(TIFFTileSize(tif.get()));
    for (uint32_t y = 0; y < height; y += th)
      for (uint32_t x = 0; x < width; x += tw) {
        if (TIFFReadTile(tif.get(), tile.data(), x, y, 0, 0) < 0)
          fail("tile at (" + std::to_string(y) + ", " + std::to_string(x) + ")", "cannot be read");
        for (uint32_t r = 0; r < th && y + r < height; ++r) {
          const uint32_t cols = std::min(tw, width - x);
          std::memcpy(raw.data() + ((size_t(y) + r) * width + x) * n, tile.data() + size_t(r) * tw * n, cols * n);
        }
      }
  } else {
    if (static_cast<size_t>(TIFFScanlineSize(tif.get())) != size_t(width) * n)
      fail("", "unexpected scanline size: expected " + std::to_string(size_t(width) * n) + " bytes");
    for (uint32_t r = 0; r < height; ++r)
      if (TIFFReadScanline(tif.get(), raw.data() + size_t(r) * width * n, r) < 0)
        fail("row " + std::to_string(r), "cannot be read (truncated or corrupt strip)");
  }
  Image img;
  img.format = "TIFF";
  img.width = width;
  img.height = height;
  // libtiff returns the samples in the machine's byte order.
  convert(raw, size_t(width) * height, t, std::endian::native == std::endian::big, img);
  return img;
}

}  // namespace xrd::image_io::detail
