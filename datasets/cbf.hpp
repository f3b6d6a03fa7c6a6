// CBF files: parse (header model + a view of the compressed payload, no copy), verify MD5, decode, write.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "base/error.hpp"

namespace xrd::cbf {

// The Pilatus mini-header (_array_data.header_contents), typed; fields absent from the file stay empty.
struct PilatusHeader {
  std::string convention;  // _array_data.header_convention, e.g. "PILATUS_1.2", "SLS/DECTRIS_1.1"
  std::string detector;    // "PILATUS3 X_2M SN 24-0168"
  std::string timestamp;   // "2022-03-01T14:25:23.528"
  std::optional<double> pixel_size_x_m, pixel_size_y_m;
  std::optional<double> exposure_time_s, exposure_period_s, tau_s;
  std::optional<int64_t> count_cutoff;
  std::optional<double> wavelength_A, detector_distance_m;
  std::optional<double> beam_x_px, beam_y_px;
  std::optional<double> threshold_eV;
  std::optional<int64_t> n_excluded_pixels;
  std::map<std::string, std::string> other;  // every other "# Key value" line, as text
};

// The binary section's MIME fields.
struct BinaryInfo {
  std::string conversions;            // "x-CBF_BYTE_OFFSET" (the only one supported)
  std::string transfer_encoding;      // "BINARY"
  size_t binary_size = 0;             // X-Binary-Size: compressed bytes
  int binary_id = 1;
  byte_offset::ElementType element_type = byte_offset::ElementType::i32;
  std::string element_type_text;      // as written, e.g. "signed 32-bit integer"
  std::string byte_order;             // "LITTLE_ENDIAN"
  std::optional<std::string> content_md5;  // base64, as written
  size_t n_elements = 0;              // X-Binary-Number-of-Elements
  size_t width = 0;                   // X-Binary-Size-Fastest-Dimension
  size_t height = 0;                  // X-Binary-Size-Second-Dimension
  size_t padding = 0;                 // X-Binary-Size-Padding
  size_t payload_offset = 0;          // byte offset of the payload in the file
};

struct CbfView {
  std::string path;  // for messages
  PilatusHeader header;
  BinaryInfo binary;
  std::span<const uint8_t> payload;  // a view into the caller's file buffer: keep the buffer alive
};

// Refuse images larger than this before allocating (a 6M is 6.2 Mpx; EIGER2 16M is 18 Mpx).
inline constexpr size_t kMaxPixels = size_t(1) << 28;

// Parse a whole file held in memory. Throws xrd::Error naming `path`, the field or byte offset, and what was expected.
CbfView parse(std::span<const uint8_t> file_bytes, const std::string& path);

// The same from the file's first bytes only (at least up to the binary marker; `file_size` is the whole file's
// length, against which the payload is checked): binary.payload_offset and binary_size say where the payload lies,
// so a reader can read it straight into its own buffer. `payload` stays empty unless `head` holds it whole. Throws
// as parse() does; a head that ends before the binary marker gives parse()'s "no binary marker" error.
CbfView parse_header(std::span<const uint8_t> head, uint64_t file_size, const std::string& path);

enum class Md5Status { ok, mismatch, absent };
const char* to_string(Md5Status s);
Md5Status check_md5(const CbfView& v);

// Decode the payload into a caller-owned buffer of exactly width*height elements (fast decoder unless reference).
// Throws xrd::Error with the file and the byte offset in the file on a bad stream.
void decode(const CbfView& v, std::span<int32_t> out, bool reference = false);
void decode(const CbfView& v, std::span<float> out, bool reference = false);

// Read a file into a caller-owned, reused buffer (throws xrd::Error naming the file on I/O errors).
void read_file(const std::filesystem::path& p, std::vector<uint8_t>& buf);

struct Image {
  size_t width = 0, height = 0;
  std::vector<int32_t> pixels;  // row-major, height x width
};
// Convenience: read + parse + (optional MD5 check, throws on mismatch) + decode.
Image read_image(const std::filesystem::path& p, bool verify_md5 = false);

// Write a CBF file with a Pilatus-style header, byte-offset payload and Content-MD5 (readable by fabio, cbflib).
void write(const std::filesystem::path& p, std::span<const int32_t> pixels, size_t width, size_t height,
           const PilatusHeader& header = {});
// The same, into memory (`out` cleared first); `scratch` holds the compressed stream between calls.
void write_to(std::vector<uint8_t>& out, std::span<const int32_t> pixels, size_t width, size_t height,
              const PilatusHeader& header, std::vector<uint8_t>& scratch);

}  // namespace xrd::cbf
