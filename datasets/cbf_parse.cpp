// CBF parsing: the CIF text header (Pilatus mini-header) and the binary section's MIME fields, down to a view of
// the compressed payload. Everything is checked before anyone allocates or decodes, so a bad file fails here.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "datasets/cbf.hpp"
#include "datasets/cbf_text.hpp"

namespace xrd::cbf {
namespace {

constexpr std::string_view kMarker{"\x0c\x1a\x04\xd5", 4};
constexpr std::string_view kMimeBoundary = "--CIF-BINARY-FORMAT-SECTION--";

using text::iequals;
using text::trim;

// Lines of `s`: CRLF, LF or a lone CR each end a line, so no line (and no header value) holds a line break.
std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t e = s.find_first_of("\r\n", start);
    if (e == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, e - start));
    start = e + ((s[e] == '\r' && e + 1 < s.size() && s[e + 1] == '\n') ? 2 : 1);
  }
  return out;
}

std::string_view unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return trim(v);
}

// ---- Pilatus mini-header ------------------------------------------------------------------------------------------

// Pilatus lines mix separators ("Tau = 0 s", "Threshold_setting: 4024 eV", "Beam_xy (720.47, 1660.53) pixels");
// fabio treats "()#:=," as spaces, and so do we for the typed fields.
std::vector<std::string_view> words_of(std::string_view s, std::string& storage) {
  storage.assign(s);
  for (char& c : storage)
    if (std::strchr("()#:=,", c)) c = ' ';
  std::vector<std::string_view> w;
  std::string_view rest = storage;
  while (true) {
    size_t b = rest.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) break;
    size_t e = rest.find_first_of(" \t\r", b);
    w.push_back(rest.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    rest = rest.substr(e);
  }
  return w;
}

std::optional<double> to_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool looks_like_timestamp(std::string_view w) {
  return !w.empty() && w.front() >= '0' && w.front() <= '9' &&
         (w.find('-') != std::string_view::npos || w.find('T') != std::string_view::npos);
}

// One "# ..." line. Typed fields whose value does not parse are kept as text in `other` rather than failing the
// file: the mini-header is metadata, the image does not depend on it.
void parse_pilatus_line(std::string_view line, PilatusHeader& h) {
  line = trim(line);
  if (line.empty() || line.front() != '#') return;
  line = trim(line.substr(1));
  if (line.empty()) return;
  std::string storage;
  auto w = words_of(line, storage);
  if (w.empty()) return;
  const std::string_view key = w[0];

  auto num = [&](size_t i) -> std::optional<double> { return i < w.size() ? to_double(w[i]) : std::nullopt; };
  auto integer = [&](size_t i) -> std::optional<int64_t> { return i < w.size() ? to_int(w[i]) : std::nullopt; };
  bool typed = true;
  if (key == "Detector") {
    std::string_view rest = trim(line.substr(std::strlen("Detector")));
    if (!rest.empty() && (rest.front() == ':' || rest.front() == '=')) rest = trim(rest.substr(1));
    h.detector = std::string(rest);
  } else if (h.timestamp.empty() && looks_like_timestamp(key)) {
    h.timestamp = std::string(line);
  } else if (key == "Pixel_size" && num(1) && num(4)) {
    h.pixel_size_x_m = num(1);  // "Pixel_size 172e-6 m x 172e-6 m"
    h.pixel_size_y_m = num(4);
  } else if (key == "Exposure_time" && num(1)) {
    h.exposure_time_s = num(1);
  } else if (key == "Exposure_period" && num(1)) {
    h.exposure_period_s = num(1);
  } else if (key == "Tau" && num(1)) {
    h.tau_s = num(1);
  } else if (key == "Count_cutoff" && integer(1)) {
    h.count_cutoff = integer(1);
  } else if (key == "Threshold_setting" && num(1)) {
    h.threshold_eV = num(1);
  } else if (key == "N_excluded_pixels" && integer(1)) {
    h.n_excluded_pixels = integer(1);
  } else if (key == "Wavelength" && num(1)) {
    h.wavelength_A = num(1);
  } else if (key == "Detector_distance" && num(1)) {
    h.detector_distance_m = num(1);
  } else if (key == "Beam_xy" && num(1) && num(2)) {
    h.beam_x_px = num(1);
    h.beam_y_px = num(2);
  } else {
    typed = false;
  }
  if (typed) return;
  // Everything else, as written: the key is the first word (without a trailing ':' or '='), the value the rest, so
  // that writing "# key value" gives back the same pair.
  size_t e = line.find_first_of(" \t");
  std::string_view k = line.substr(0, e);
  std::string_view v = e == std::string_view::npos ? std::string_view{} : trim(line.substr(e));
  while (!k.empty() && (k.back() == ':' || k.back() == '=')) k.remove_suffix(1);
  if (!v.empty() && (v.front() == ':' || v.front() == '=')) v = trim(v.substr(1));
  if (!k.empty()) h.other[std::string(k)] = std::string(v);
}

// The CIF text before the binary section: only _array_data.header_convention and _array_data.header_contents
// matter to us; other CIF data (full CBF files) is skipped.
void parse_cif_text(std::string_view cif, PilatusHeader& h) {
  auto lines = split_lines(cif);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = trim(lines[i]);
    if (text::istarts_with(l, "_array_data.header_convention")) {
      h.convention = std::string(unquote(l.substr(std::strlen("_array_data.header_convention"))));
    } else if (text::istarts_with(l, "_array_data.header_contents")) {
      std::string_view inline_value = trim(l.substr(std::strlen("_array_data.header_contents")));
      if (!inline_value.empty()) {
        parse_pilatus_line(unquote(inline_value), h);
        continue;
      }
      // A CIF text field: from a line starting with ';' to the next line starting with ';'.
      size_t j = i + 1;
      while (j < lines.size() && trim(lines[j]).empty()) ++j;
      if (j >= lines.size() || lines[j].empty() || lines[j].front() != ';') continue;
      std::string_view first = lines[j].substr(1);
      if (!trim(first).empty()) parse_pilatus_line(first, h);
      for (++j; j < lines.size() && !(!lines[j].empty() && lines[j].front() == ';'); ++j)
        parse_pilatus_line(lines[j], h);
      i = j;
    }
  }
}

// ---- binary section ---------------------------------------------------------------------------------------------

struct MimeParser {
  const std::string& path;
  size_t number(std::string_view field, std::string_view v) const {
    v = unquote(v);
    size_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size())
      throw Error(path, Error::at_field(std::string(field)),
                  "expected a non-negative decimal integer, found '" + std::string(v) + "'");
    return x;
  }
};

byte_offset::ElementType element_type_of(const std::string& path, std::string_view t) {
  struct Known {
    const char* text;
    byte_offset::ElementType type;
  };
  static constexpr Known known[] = {
      {"signed 32-bit integer", byte_offset::ElementType::i32}, {"unsigned 32-bit integer", byte_offset::ElementType::u32},
      {"signed 16-bit integer", byte_offset::ElementType::i16}, {"unsigned 16-bit integer", byte_offset::ElementType::u16},
      {"signed 8-bit integer", byte_offset::ElementType::i8},   {"unsigned 8-bit integer", byte_offset::ElementType::u8},
  };
  for (auto& k : known)
    if (iequals(t, k.text)) return k.type;
  throw Error(path, Error::at_field("X-Binary-Element-Type"),
              "unsupported element type '" + std::string(t) +
                  "': expected a signed or unsigned 8-, 16- or 32-bit integer (e.g. \"signed 32-bit integer\")");
}

void parse_mime(std::string_view mime, const std::string& path, BinaryInfo& b) {
  MimeParser mp{path};
  bool have_size = false, have_conversions = false, have_fast = false, have_second = false, have_n = false;
  std::optional<size_t> third;
  for (std::string_view raw : split_lines(mime)) {
    std::string_view l = trim(raw);
    if (l.empty()) continue;
    // conversions="x-CBF_BYTE_OFFSET" is a parameter of Content-Type, usually on its own continuation line.
    if (size_t c = text::ifind(l, "conversions"); c != std::string_view::npos) {
      std::string_view v = l.substr(c + std::strlen("conversions"));
      v = trim(v);
      if (!v.empty() && v.front() == '=') {
        v = trim(v.substr(1));
        size_t semi = v.find(';');
        b.conversions = std::string(unquote(v.substr(0, semi)));
        have_conversions = true;
        continue;
      }
    }
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trim(l.substr(0, colon));
    std::string_view val = trim(l.substr(colon + 1));
    if (iequals(key, "Content-Transfer-Encoding")) {
      b.transfer_encoding = std::string(unquote(val));
    } else if (iequals(key, "X-Binary-Size")) {
      b.binary_size = mp.number(key, val);
      have_size = true;
    } else if (iequals(key, "X-Binary-ID")) {
      size_t id = mp.number(key, val);
      if (id > 1000000) throw Error(path, Error::at_field("X-Binary-ID"), "expected a small positive integer");
      b.binary_id = static_cast<int>(id);
    } else if (iequals(key, "X-Binary-Element-Type")) {
      b.element_type_text = std::string(unquote(val));
    } else if (iequals(key, "X-Binary-Element-Byte-Order")) {
      b.byte_order = std::string(unquote(val));
    } else if (iequals(key, "Content-MD5")) {
      b.content_md5 = std::string(unquote(val));
    } else if (iequals(key, "X-Binary-Number-of-Elements")) {
      b.n_elements = mp.number(key, val);
      have_n = true;
    } else if (iequals(key, "X-Binary-Size-Fastest-Dimension")) {
      b.width = mp.number(key, val);
      have_fast = true;
    } else if (iequals(key, "X-Binary-Size-Second-Dimension")) {
      b.height = mp.number(key, val);
      have_second = true;
    } else if (iequals(key, "X-Binary-Size-Third-Dimension")) {
      third = mp.number(key, val);
    } else if (iequals(key, "X-Binary-Size-Padding")) {
      b.padding = mp.number(key, val);
    }
  }

  if (!have_conversions)
    throw Error(path, Error::at_field("conversions"),
                "missing: expected Content-Type: application/octet-stream; conversions=\"x-CBF_BYTE_OFFSET\"");
  if (!iequals(b.conversions, "x-CBF_BYTE_OFFSET"))
    throw Error(path, Error::at_field("conversions"),
                "unsupported conversion '" + b.conversions + "': only x-CBF_BYTE_OFFSET is supported");
  if (!b.transfer_encoding.empty() && !iequals(b.transfer_encoding, "BINARY"))
    throw Error(path, Error::at_field("Content-Transfer-Encoding"),
                "unsupported encoding '" + b.transfer_encoding + "': only BINARY is supported");
  if (!have_size) throw Error(path, Error::at_field("X-Binary-Size"), "missing: expected the payload size in bytes");
  if (b.element_type_text.empty()) b.element_type_text = "signed 32-bit integer";  // cbflib's and fabio's default
  b.element_type = element_type_of(path, b.element_type_text);
  if (!b.byte_order.empty() && !iequals(b.byte_order, "LITTLE_ENDIAN"))
    throw Error(path, Error::at_field("X-Binary-Element-Byte-Order"),
                "unsupported byte order '" + b.byte_order + "': expected LITTLE_ENDIAN");
  if (b.byte_order.empty()) b.byte_order = "LITTLE_ENDIAN";

  if (!have_fast)
    throw Error(path, Error::at_field("X-Binary-Size-Fastest-Dimension"), "missing: expected the image width");
  if (!have_second)
    throw Error(path, Error::at_field("X-Binary-Size-Second-Dimension"), "missing: expected the image height");
  if (b.width == 0)
    throw Error(path, Error::at_field("X-Binary-Size-Fastest-Dimension"), "is 0: expected a width of at least 1");
  if (b.height == 0)
    throw Error(path, Error::at_field("X-Binary-Size-Second-Dimension"), "is 0: expected a height of at least 1");
  if (third && *third != 1)
    throw Error(path, Error::at_field("X-Binary-Size-Third-Dimension"),
                "is " + std::to_string(*third) + ": only 2D images (1) are supported");
  // Refuse absurd sizes before anyone allocates width*height pixels (and before width*height can overflow).
  if (b.width > kMaxPixels || b.height > kMaxPixels || b.width * b.height > kMaxPixels)
    throw Error(path, Error::at_field("X-Binary-Size-Fastest-Dimension"),
                std::to_string(b.width) + " x " + std::to_string(b.height) +
                    " pixels is too large: expected at most " + std::to_string(kMaxPixels) + " pixels");
  if (!have_n) b.n_elements = b.width * b.height;
  if (b.n_elements != b.width * b.height)
    throw Error(path, Error::at_field("X-Binary-Number-of-Elements"),
                "is " + std::to_string(b.n_elements) + ": expected width x height = " + std::to_string(b.width) +
                    " x " + std::to_string(b.height) + " = " + std::to_string(b.width * b.height));
}

}  // namespace

namespace {

// parse() and parse_header(): `file_bytes` holds the file from its start, at least up to the end of the header;
// `file_size` is the whole file's length (the payload is checked against it).
CbfView parse_impl(std::span<const uint8_t> file_bytes, uint64_t file_size, const std::string& path) {
  CbfView v;
  v.path = path;
  if (file_bytes.empty())
    throw Error(path, Error::at_byte(0), "empty file: expected a CBF file (CIF text header, then a binary section)");
  const std::string_view all(reinterpret_cast<const char*>(file_bytes.data()), file_bytes.size());

  const size_t marker = all.find(kMarker);
  // The text header ends at the first marker; without one, look at the whole file to say what is wrong.
  const std::string_view head = marker == std::string_view::npos ? all : all.substr(0, marker);
  const size_t boundary = head.rfind(kMimeBoundary);
  if (boundary == std::string_view::npos) {
    const bool cif_like = head.starts_with("###CBF") || head.find("_array_data") != std::string_view::npos ||
                          head.starts_with("data_");
    if (!cif_like)
      throw Error(path, Error::at_byte(0),
                  "not a CBF file: expected '###CBF', a CIF data block or a binary section ('" +
                      std::string(kMimeBoundary) + "') in the text header");
    throw Error(path, Error::at_byte(head.size()),
                "no binary section: expected a MIME header starting with '" + std::string(kMimeBoundary) + "'");
  }
  if (marker == std::string_view::npos)
    throw Error(path, Error::at_byte(boundary),
                "no binary marker: expected the bytes 0x0C 0x1A 0x04 0xD5 after the MIME header of the binary section");

  parse_cif_text(head.substr(0, boundary), v.header);
  parse_mime(head.substr(boundary + kMimeBoundary.size()), path, v.binary);

  v.binary.payload_offset = marker + kMarker.size();
  const size_t available = static_cast<size_t>(file_size) - v.binary.payload_offset;
  if (v.binary.binary_size > available)
    throw Error(path, Error::at_field("X-Binary-Size"),
                "declares " + std::to_string(v.binary.binary_size) + " bytes but only " + std::to_string(available) +
                    " bytes follow the binary marker at byte " + std::to_string(marker) + " (file truncated?)");
  // Every byte-offset element takes at least one byte: a payload smaller than the element count cannot be right,
  // and refusing it here keeps a 100-byte file from making a reader allocate width*height pixels first.
  if (v.binary.binary_size < v.binary.n_elements)
    throw Error(path, Error::at_field("X-Binary-Size"),
                std::to_string(v.binary.binary_size) + " bytes cannot hold " + std::to_string(v.binary.n_elements) +
                    " elements: expected at least 1 byte per element (X-Binary-Number-of-Elements)");
  // Padding (X-Binary-Size-Padding) is optional in practice: header-less writers declare 4095 and write none.
  if (file_bytes.size() >= v.binary.payload_offset + v.binary.binary_size)
    v.payload = file_bytes.subspan(v.binary.payload_offset, v.binary.binary_size);
  return v;
}

}  // namespace

CbfView parse(std::span<const uint8_t> file_bytes, const std::string& path) {
  return parse_impl(file_bytes, file_bytes.size(), path);
}

CbfView parse_header(std::span<const uint8_t> head, uint64_t file_size, const std::string& path) {
  if (head.size() > file_size)
    throw Error(path, "", "parse_header: " + std::to_string(head.size()) + " header bytes given for a file of " +
                              std::to_string(file_size) + " bytes");
  return parse_impl(head, file_size, path);
}

}  // namespace xrd::cbf
