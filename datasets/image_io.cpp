// Format recognition (first bytes), the CBF case, element conversion, and the float view for darks and flats.
#include "datasets/image_io.hpp"

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/enum_names.hpp"
#include "datasets/cbf.hpp"
#include "datasets/image_formats.hpp"
#include "base/error.hpp"

namespace xrd::image_io {

namespace detail {

size_t size_of(Scalar t) {
  switch (t) {
    case Scalar::b1:
    case Scalar::u8:
    case Scalar::i8:
      return 1;
    case Scalar::u16:
    case Scalar::i16:
      return 2;
    case Scalar::u32:
    case Scalar::i32:
    case Scalar::f32:
      return 4;
    case Scalar::u64:
    case Scalar::i64:
    case Scalar::f64:
      return 8;
  }
  return 1;
}

const char* name_of(Scalar t) {
  static constexpr EnumName<Scalar> names[] = {
      {Scalar::b1, "bool"},     {Scalar::u8, "uint8"},   {Scalar::i8, "int8"},       {Scalar::u16, "uint16"},
      {Scalar::i16, "int16"},   {Scalar::u32, "uint32"}, {Scalar::i32, "int32"},     {Scalar::u64, "uint64"},
      {Scalar::i64, "int64"},   {Scalar::f32, "float32"}, {Scalar::f64, "float64"}};
  return enum_name(names, t);
}

void check_extent(const std::string& name, const std::string& where, size_t width, size_t height) {
  constexpr size_t kMax = size_t(1) << 30;
  if (width == 0 || height == 0 || width > kMax || height > kMax / width)
    throw Error(name, where,
                std::to_string(width) + " x " + std::to_string(height) +
                    " pixels: expected a non-empty image of at most 2^30 pixels");
}

void check_decoded_size(const std::string& name, const std::string& where, size_t decoded, size_t stored) {
  constexpr size_t kFloor = size_t(256) << 20, kRatio = 4096;
  if (decoded > kFloor && decoded / kRatio > stored)
    throw Error(name, where,
                std::to_string(decoded) + " bytes of pixels from " + std::to_string(stored) +
                    " stored bytes: the header does not match the data");
}

namespace {
template <typename T>
T load(const uint8_t* p, bool swap) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap)
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}
}  // namespace

void convert(std::span<const uint8_t> bytes, size_t count, Scalar t, bool big_endian, Image& out) {
  const bool swap = big_endian != (std::endian::native == std::endian::big);
  const size_t n = size_of(t);
  out.pixels.resize(count);
  out.type = name_of(t);
  const uint8_t* p = bytes.data();
  for (size_t i = 0; i < count; ++i, p += n) {
    double v = 0;
    switch (t) {
      case Scalar::b1: v = *p != 0; break;
      case Scalar::u8: v = *p; break;
      case Scalar::i8: v = static_cast<int8_t>(*p); break;
      case Scalar::u16: v = load<uint16_t>(p, swap); break;
      case Scalar::i16: v = load<int16_t>(p, swap); break;
      case Scalar::u32: v = load<uint32_t>(p, swap); break;
      case Scalar::i32: v = load<int32_t>(p, swap); break;
      case Scalar::u64: v = static_cast<double>(load<uint64_t>(p, swap)); break;
      case Scalar::i64: v = static_cast<double>(load<int64_t>(p, swap)); break;
      case Scalar::f32: v = load<float>(p, swap); break;
      case Scalar::f64: v = load<double>(p, swap); break;
    }
    out.pixels[i] = v;
  }
}

}  // namespace detail

Source parse_source(const std::string& spec) {
  Source s;
  s.text = spec;
  const size_t at = spec.rfind("::");
  if (at == std::string::npos) {
    s.file = spec;
  } else {
    s.file = spec.substr(0, at);
    s.dataset = spec.substr(at + 2);
  }
  return s;
}

bool exists(const std::string& spec) {
  std::error_code ec;
  return std::filesystem::exists(parse_source(spec).file, ec);
}

Image read(const std::string& spec) {
  const Source src = parse_source(spec);
  const std::string name = src.file.string();
  std::ifstream f(src.file, std::ios::binary);
  if (!f) throw Error(name, "", "cannot open the file (" + std::string(std::strerror(errno)) + ")");
  uint8_t magic[8] = {};
  f.read(reinterpret_cast<char*>(magic), sizeof magic);
  const size_t got = static_cast<size_t>(f.gcount());
  auto starts = [&](const char* m, size_t n) { return got >= n && std::memcmp(magic, m, n) == 0; };

  const bool hdf5 = starts("\x89HDF\r\n\x1a\n", 8);
  if (hdf5 || !src.dataset.empty()) {
    if (!hdf5)
      throw Error(name, "byte 0", "'::" + src.dataset + "' names an HDF5 dataset, but the file is not HDF5");
    if (src.dataset.empty())
      throw Error(name, "", "an HDF5 file needs the dataset: give FILE::/path/to/dataset");
    return detail::read_hdf5(src.file, src.dataset);
  }
  if (starts("II*\0", 4) || starts("MM\0*", 4) || starts("II+\0", 4) || starts("MM\0+", 4))
    return detail::read_tiff(src.file);

  f.clear();  // a file shorter than the magic left eof set
  f.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(f.tellg());
  std::vector<uint8_t> bytes(size);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!f) throw Error(name, "", "read failed");
  if (starts("\x93NUMPY", 6)) return detail::read_npy(src.file, bytes);
  size_t lead = 0;
  while (lead < bytes.size() && (bytes[lead] == ' ' || bytes[lead] == '\n' || bytes[lead] == '\r')) ++lead;
  if (lead < bytes.size() && bytes[lead] == '{') return detail::read_edf(src.file, bytes);
  std::string ext = src.file.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (starts("###CBF", 6) || starts("###_CBF", 7) || ext == ".cbf") {
    const cbf::Image c = cbf::read_image(src.file);
    Image img;
    img.width = c.width, img.height = c.height, img.format = "CBF", img.type = "int32";
    img.pixels.assign(c.pixels.begin(), c.pixels.end());
    return img;
  }
  throw Error(name, "byte 0",
              "not an image format xrdbench reads: expected CBF (###CBF), EDF ({), NumPy .npy (\\x93NUMPY), TIFF "
              "(II*/MM*) or HDF5 (FILE.h5::/path/to/dataset)");
}

std::vector<float> read_float(const std::string& spec, size_t width, size_t height, const std::string& what) {
  const Image img = read(spec);
  if (img.width != width || img.height != height)
    throw Error(spec, "",
                what + " is " + std::to_string(img.width) + " x " + std::to_string(img.height) + " pixels (" +
                    img.format + "), the frames " + std::to_string(width) + " x " + std::to_string(height));
  return std::vector<float>(img.pixels.begin(), img.pixels.end());
}

}  // namespace xrd::image_io
