// EDF (ESRF data format) as fabio writes it: a "{ key = value ; ... }" ASCII header padded to 512-byte blocks, then
// the raw pixels. One frame, uncompressed; the keys fabio's edfimage reads for the data (Dim_1, Dim_2, DataType,
// ByteOrder, Size, Compression).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "datasets/image_formats.hpp"
#include "base/error.hpp"

namespace xrd::image_io::detail {

namespace {

std::string trim(std::string s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// fabio's DATA_TYPES (edfimage.py), by lower-case name.
bool scalar_of(const std::string& name, Scalar& t) {
  static const std::map<std::string, Scalar> kTypes = {
      {"signedbyte", Scalar::i8},     {"unsignedbyte", Scalar::u8},        {"signedshort", Scalar::i16},
      {"unsignedshort", Scalar::u16}, {"unsignedshortinteger", Scalar::u16}, {"signedinteger", Scalar::i32},
      {"unsignedinteger", Scalar::u32}, {"signedlong", Scalar::i32},       {"unsignedlong", Scalar::u32},
      {"signed32", Scalar::i32},      {"unsigned32", Scalar::u32},         {"signed64", Scalar::i64},
      {"unsigned64", Scalar::u64},    {"floatvalue", Scalar::f32},         {"float", Scalar::f32},
      {"real", Scalar::f32},          {"doublevalue", Scalar::f64},        {"double", Scalar::f64}};
  const auto it = kTypes.find(lower(name));
  if (it == kTypes.end()) return false;
  t = it->second;
  return true;
}

}  // namespace

Image read_edf(const std::filesystem::path& p, std::span<const uint8_t> bytes) {
  const std::string name = p.string();
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t open = text.find('{');
  const size_t close = text.find('}', open);
  if (close == std::string_view::npos)
    throw Error(name, "byte " + std::to_string(open), "EDF header not closed: expected '}' after the '{'");
  // The data start after the '}' and its line end, as fabio reads it.
  size_t data = close + 1;
  if (data < text.size() && text[data] == '\r') ++data;
  if (data < text.size() && text[data] == '\n') ++data;

  std::map<std::string, std::pair<std::string, size_t>> kv;  // lower-case key -> value, byte offset
  size_t pos = open + 1;
  while (pos < close) {
    size_t end = text.find(';', pos);
    if (end == std::string_view::npos || end > close) end = close;
    const std::string_view item = text.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos)
      kv[lower(trim(std::string(item.substr(0, eq))))] = {trim(std::string(item.substr(eq + 1))), pos};
    pos = end + 1;
  }
  auto field = [&](const char* k) -> const std::pair<std::string, size_t>* {
    const auto it = kv.find(k);
    return it == kv.end() ? nullptr : &it->second;
  };
  auto dim = [&](const char* k, bool required) -> size_t {
    const auto* f = field(k);
    if (!f) {
      if (required) throw Error(name, "EDF header", std::string("no ") + k + " (expected the image size in pixels)");
      return 1;
    }
    size_t v = 0;
    const char* b = f->first.data();
    const auto [ptr, ec] = std::from_chars(b, b + f->first.size(), v);
    if (ec != std::errc() || ptr != b + f->first.size() || v == 0)
      throw Error(name, "byte " + std::to_string(f->second),
                  std::string(k) + " = '" + f->first + "': expected a positive integer");
    return v;
  };
  Image img;
  img.format = "EDF";
  img.width = dim("dim_1", true);
  img.height = dim("dim_2", true);
  if (dim("dim_3", false) != 1)
    throw Error(name, "EDF header", "Dim_3 = " + field("dim_3")->first + ": expected one 2D image");
  if (const auto* c = field("compression"); c && lower(c->first) != "none" && lower(c->first) != "nocompression")
    throw Error(name, "byte " + std::to_string(c->second),
                "Compression = " + c->first + " is not supported (expected an uncompressed EDF)");
  const auto* dt = field("datatype");
  if (!dt) throw Error(name, "EDF header", "no DataType (expected e.g. SignedByte, UnsignedShort, FloatValue)");
  Scalar t;
  if (!scalar_of(dt->first, t))
    throw Error(name, "byte " + std::to_string(dt->second),
                "DataType = " + dt->first +
                    ": expected one of SignedByte, UnsignedByte, SignedShort, UnsignedShort, SignedInteger, "
                    "UnsignedInteger, SignedLong, UnsignedLong, Signed64, Unsigned64, FloatValue, DoubleValue");
  bool big = false;
  if (const auto* bo = field("byteorder")) {
    const std::string o = lower(bo->first);
    if (o == "highbytefirst")
      big = true;
    else if (o != "lowbytefirst")
      throw Error(name, "byte " + std::to_string(bo->second),
                  "ByteOrder = " + bo->first + ": expected LowByteFirst or HighByteFirst");
  }
  check_extent(name, "EDF header Dim_1/Dim_2", img.width, img.height);
  const size_t count = img.width * img.height;
  const size_t need = count * size_of(t);
  if (const auto* sz = field("size")) {
    size_t v = 0;
    const char* b = sz->first.data();
    const auto [ptr, ec] = std::from_chars(b, b + sz->first.size(), v);
    if (ec != std::errc() || v != need)
      throw Error(name, "byte " + std::to_string(sz->second),
                  "Size = " + sz->first + ": expected " + std::to_string(need) + " bytes (Dim_1 x Dim_2 x " +
                      std::to_string(size_of(t)) + ")");
  }
  if (bytes.size() < data + need)
    throw Error(name, "byte " + std::to_string(bytes.size()),
                "file ends inside the EDF data: expected " + std::to_string(need) + " bytes from byte " +
                    std::to_string(data));
  // A second header after the data is a multi-frame EDF: refused rather than reading only the first frame.
  size_t next = data + need;
  while (next < bytes.size() && std::isspace(bytes[next])) ++next;
  if (next < bytes.size() && bytes[next] == '{')
    throw Error(name, "byte " + std::to_string(next), "the EDF file holds more than one frame: expected one image");
  convert(bytes.subspan(data, need), count, t, big, img);
  return img;
}

}  // namespace xrd::image_io::detail
