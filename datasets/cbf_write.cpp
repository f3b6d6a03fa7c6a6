// CBF writing as a Pilatus detector does it: CIF header with the mini-header, MIME block with Content-MD5,
// the byte-offset payload and 4095 bytes of zero padding; readable by fabio and cbflib.
#include <charconv>
#include <cstdio>
#include <fstream>

#include "datasets/cbf.hpp"
#include "kernels/md5.hpp"

namespace xrd::cbf {
namespace {

constexpr size_t kPadding = 4095;  // what Pilatus detectors write (cbflib's default)

// Shortest text that reads back to the same double.
std::string fmt(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? p : buf);
}

void append(std::vector<uint8_t>& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

std::string pilatus_lines(const PilatusHeader& h) {
  std::string s;
  auto line = [&](const std::string& l) { s += "# " + l + "\r\n"; };
  if (!h.detector.empty()) line("Detector: " + h.detector);
  if (!h.timestamp.empty()) line(h.timestamp);
  if (h.pixel_size_x_m && h.pixel_size_y_m)
    line("Pixel_size " + fmt(*h.pixel_size_x_m) + " m x " + fmt(*h.pixel_size_y_m) + " m");
  if (h.exposure_time_s) line("Exposure_time " + fmt(*h.exposure_time_s) + " s");
  if (h.exposure_period_s) line("Exposure_period " + fmt(*h.exposure_period_s) + " s");
  if (h.tau_s) line("Tau = " + fmt(*h.tau_s) + " s");
  if (h.count_cutoff) line("Count_cutoff " + std::to_string(*h.count_cutoff) + " counts");
  if (h.threshold_eV) line("Threshold_setting: " + fmt(*h.threshold_eV) + " eV");
  if (h.n_excluded_pixels) line("N_excluded_pixels = " + std::to_string(*h.n_excluded_pixels));
  if (h.wavelength_A) line("Wavelength " + fmt(*h.wavelength_A) + " A");
  if (h.detector_distance_m) line("Detector_distance " + fmt(*h.detector_distance_m) + " m");
  if (h.beam_x_px && h.beam_y_px) line("Beam_xy (" + fmt(*h.beam_x_px) + ", " + fmt(*h.beam_y_px) + ") pixels");
  for (auto& [k, v] : h.other) {
    // A line break would end the mini-header line (or the CIF text field): refuse rather than write a broken file.
    if (k.find_first_of("\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      throw Error("", Error::at_field(k), "header value contains a line break: expected a single line");
    // fabio 0.14 fails on a one-word mini-header line (IndexError in PilatusHeader._parse): a key without a value
    // carries nothing a reader could use, so it is left out rather than make the file unreadable there.
    if (v.empty()) continue;
    line(k + " " + v);
  }
  return s;
}

}  // namespace

void write_to(std::vector<uint8_t>& out, std::span<const int32_t> pixels, size_t width, size_t height,
              const PilatusHeader& header, std::vector<uint8_t>& scratch) {
  if (width == 0 || height == 0 || width > kMaxPixels || height > kMaxPixels || width * height > kMaxPixels)
    throw Error("", "", "cannot write a " + std::to_string(width) + " x " + std::to_string(height) +
                            " image: expected 1 to " + std::to_string(kMaxPixels) + " pixels");
  if (pixels.size() != width * height)
    throw Error("", "", "cannot write: " + std::to_string(pixels.size()) + " pixels given, expected " +
                            std::to_string(width) + " x " + std::to_string(height));
  byte_offset::encode(pixels, scratch);

  out.clear();
  std::string h;
  h += "###CBF: VERSION 1.5, xrdbench CBF writer (PILATUS-style header)\r\n\r\n";
  h += "data_xrdbench\r\n\r\n";
  // No mini-header at all when there is nothing to say: fabio reads an empty CIF text field as "?" and then fails
  // to parse it as a Pilatus header.
  if (const std::string lines = pilatus_lines(header); !lines.empty()) {
    h += "_array_data.header_convention \"" +
         (header.convention.empty() ? std::string("PILATUS_1.2") : header.convention) + "\"\r\n";
    h += "_array_data.header_contents\r\n;\r\n" + lines + ";\r\n\r\n";
  }
  h += "_array_data.data\r\n;\r\n";
  h += "--CIF-BINARY-FORMAT-SECTION--\r\n";
  h += "Content-Type: application/octet-stream;\r\n";
  h += "     conversions=\"x-CBF_BYTE_OFFSET\"\r\n";
  h += "Content-Transfer-Encoding: BINARY\r\n";
  h += "X-Binary-Size: " + std::to_string(scratch.size()) + "\r\n";
  h += "X-Binary-ID: 1\r\n";
  h += "X-Binary-Element-Type: \"signed 32-bit integer\"\r\n";
  h += "X-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\n";
  h += "Content-MD5: " + to_base64(md5(scratch)) + "\r\n";
  h += "X-Binary-Number-of-Elements: " + std::to_string(width * height) + "\r\n";
  h += "X-Binary-Size-Fastest-Dimension: " + std::to_string(width) + "\r\n";
  h += "X-Binary-Size-Second-Dimension: " + std::to_string(height) + "\r\n";
  h += "X-Binary-Size-Padding: " + std::to_string(kPadding) + "\r\n";
  h += "\r\n";
  h += "\x0c\x1a\x04\xd5";
  const std::string_view tail = "\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n\r\n";
  out.reserve(h.size() + scratch.size() + kPadding + tail.size());
  append(out, h);
  out.insert(out.end(), scratch.begin(), scratch.end());
  out.insert(out.end(), kPadding, uint8_t{0});
  append(out, tail);
}

void write(const std::filesystem::path& p, std::span<const int32_t> pixels, size_t width, size_t height,
           const PilatusHeader& header) {
  std::vector<uint8_t> out, scratch;
  try {
    write_to(out, pixels, width, height, header, scratch);
  } catch (const Error& e) {
    throw e.with_file(p.string());
  }
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(p.string(), "", "cannot open for writing");
  f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  f.close();
  if (!f) throw Error(p.string(), "", "write failed (disk full?)");
}

}  // namespace xrd::cbf
