// NumPy .npy files (format versions 1-3): the magic, a little-endian header length, a Python dict literal with
// 'descr', 'fortran_order' and 'shape', then the raw array (numpy.lib.format).
#include <charconv>
#include <string_view>
#include <vector>

#include "datasets/image_formats.hpp"
#include "base/error.hpp"

namespace xrd::image_io::detail {

namespace {

// The text after "'key':" in the header dict, or npos.
size_t value_at(std::string_view h, std::string_view key) {
  for (const char q : {'\'', '"'}) {
    std::string k;
    k.push_back(q);
    k.append(key);
    k.push_back(q);
    const size_t at = h.find(k);
    if (at == std::string_view::npos) continue;
    size_t p = h.find(':', at + k.size());
    if (p == std::string_view::npos) return p;
    ++p;
    while (p < h.size() && h[p] == ' ') ++p;
    return p;
  }
  return std::string_view::npos;
}

}  // namespace

Image read_npy(const std::filesystem::path& p, std::span<const uint8_t> bytes) {
  const std::string name = p.string();
  if (bytes.size() < 10) throw Error(name, "byte " + std::to_string(bytes.size()), "file ends inside the .npy preamble");
  const int major = bytes[6];
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = bytes[8] | (size_t(bytes[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(name, "byte 8", "file ends inside the .npy header length");
    header_len = bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    start = 12;
  } else {
    throw Error(name, "byte 6", ".npy format version " + std::to_string(major) + " is not supported (expected 1-3)");
  }
  if (bytes.size() < start + header_len)
    throw Error(name, "byte " + std::to_string(start), "file ends inside the .npy header");
  const std::string_view h(reinterpret_cast<const char*>(bytes.data()) + start, header_len);
  const std::string at_header = "header (byte " + std::to_string(start) + ")";

  // 'descr': '<f4' and the like: byte order, kind, item size.
  const size_t d = value_at(h, "descr");
  if (d == std::string_view::npos || d >= h.size() || (h[d] != '\'' && h[d] != '"'))
    throw Error(name, at_header, "no 'descr' string (expected e.g. '<f4')");
  const size_t d_end = h.find(h[d], d + 1);
  const std::string descr(h.substr(d + 1, d_end == std::string_view::npos ? 0 : d_end - d - 1));
  bool big = false;
  std::string_view code = descr;
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    big = code[0] == '>';
    code.remove_prefix(1);
  }
  static const std::pair<const char*, Scalar> kCodes[] = {
      {"b1", Scalar::b1}, {"u1", Scalar::u8},  {"i1", Scalar::i8},  {"u2", Scalar::u16},
      {"i2", Scalar::i16}, {"u4", Scalar::u32}, {"i4", Scalar::i32}, {"u8", Scalar::u64},
      {"i8", Scalar::i64}, {"f4", Scalar::f32}, {"f8", Scalar::f64}};
  Scalar t{};
  bool known = false;
  for (const auto& [c, s] : kCodes)
    if (code == c) t = s, known = true;
  if (!known)
    throw Error(name, at_header,
                "dtype '" + descr + "' is not supported (expected bool, (u)int8-64, float32 or float64)");

  const size_t f = value_at(h, "fortran_order");
  if (f == std::string_view::npos) throw Error(name, at_header, "no 'fortran_order' (expected True or False)");
  const bool fortran = h.substr(f, 4) == "True";

  const size_t s = value_at(h, "shape");
  if (s == std::string_view::npos || s >= h.size() || h[s] != '(') throw Error(name, at_header, "no 'shape' tuple");
  const size_t s_end = h.find(')', s);
  if (s_end == std::string_view::npos) throw Error(name, at_header, "'shape' tuple not closed: expected ')'");
  std::vector<size_t> shape;
  for (size_t q = s + 1; q < s_end;) {
    while (q < s_end && (h[q] == ' ' || h[q] == ',')) ++q;
    if (q >= s_end) break;
    size_t v = 0;
    const auto [ptr, ec] = std::from_chars(h.data() + q, h.data() + s_end, v);
    if (ec != std::errc()) throw Error(name, at_header, "shape " + std::string(h.substr(s, s_end - s + 1)) + ": expected integers");
    shape.push_back(v);
    q = static_cast<size_t>(ptr - h.data());
  }
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0)
    throw Error(name, at_header,
                "shape " + std::string(h.substr(s, s_end - s + 1)) + ": expected one 2D image (rows, columns)");

  Image img;
  img.format = "NPY";
  img.height = shape[0];
  img.width = shape[1];
  check_extent(name, at_header, img.width, img.height);
  const size_t count = img.width * img.height;
  const size_t data = start + header_len;
  const size_t need = count * size_of(t);
  if (bytes.size() < data + need)
    throw Error(name, "byte " + std::to_string(bytes.size()),
                "file ends inside the array: expected " + std::to_string(need) + " bytes from byte " +
                    std::to_string(data));
  convert(bytes.subspan(data, need), count, t, big, img);
  if (fortran) {  // column-major on disk: transpose into row-major
    std::vector<double> rm(count);
    for (size_t i = 0; i < img.height; ++i)
      for (size_t j = 0; j < img.width; ++j) rm[i * img.width + j] = img.pixels[j * img.height + i];
    img.pixels.swap(rm);
  }
  return img;
}

}  // namespace xrd::image_io::detail
