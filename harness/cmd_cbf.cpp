// `xrdbench cbf info`: what is in a CBF file (header, MD5, pixel statistics, decode time), human or JSON;
// `xrdbench cbf encode`: raw little-endian int32 pixels -> a Pilatus-style CBF file (our writer, for peers to read).
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "datasets/cbf.hpp"
#include "harness/cli.hpp"
#include "harness/progress.hpp"
#include "harness/stats.hpp"
#include "kernels/byte_offset.hpp"
#include "kernels/md5.hpp"
#include "kernels/ocl_device.hpp"
#include "kernels/ocl_engine.hpp"

namespace po = boost::program_options;
using nlohmann::json;

namespace xrd::cli {
namespace {

// The one place `cbf info` decodes a frame. Another device (the OpenCL decoder, `--device`) is one more subclass
// and one more branch in make_decoder(); nothing else in this file changes.
class FrameDecoder {
 public:
  virtual ~FrameDecoder() = default;
  virtual std::string name() const = 0;
  // Decode the payload of `v` into `out` (width*height pixels, host memory). Throws xrd::Error on a bad stream.
  virtual void decode(const cbf::CbfView& v, std::span<int32_t> out) = 0;
};

class CpuDecoder : public FrameDecoder {
 public:
  std::string name() const override { return std::string("cpu (") + byte_offset::fast_decoder_name() + ")"; }
  void decode(const cbf::CbfView& v, std::span<int32_t> out) override { cbf::decode(v, out); }
};

// The OpenCL decoder (kernels/ocl_engine.hpp); its buffers grow to the largest frame seen.
class OclDecoder : public FrameDecoder {
 public:
  explicit OclDecoder(const ocl::DeviceSpec& spec) : ctx_(spec) {}
  std::string name() const override { return "opencl (" + ctx_.name() + ")"; }
  void decode(const cbf::CbfView& v, std::span<int32_t> out) override {
    if (!dec_ || v.payload.size() > bytes_ || out.size() > pixels_) {
      bytes_ = std::max(bytes_, v.payload.size());
      pixels_ = std::max(pixels_, out.size());
      dec_ = std::make_unique<ocl::Decoder>(ctx_, bytes_, pixels_);
    }
    const byte_offset::DecodeResult r = dec_->decode(v.payload, out, v.binary.element_type);
    if (!r.ok())
      throw Error(v.path, Error::at_byte(v.binary.payload_offset + r.error_offset),
                  "bad byte-offset payload (decoded on " + ctx_.name() + "; stream offsets below are relative to "
                  "the payload at file byte " + std::to_string(v.binary.payload_offset) + "): " + r.message());
  }

 private:
  ocl::DeviceContext ctx_;
  std::unique_ptr<ocl::Decoder> dec_;
  size_t bytes_ = 0, pixels_ = 0;
};

std::unique_ptr<FrameDecoder> make_decoder(const std::string& device) {
  const ocl::DeviceSpec spec = ocl::parse_device_spec(device);
  if (spec.is_opencl()) return std::make_unique<OclDecoder>(spec);
  return std::make_unique<CpuDecoder>();
}

struct InfoOptions {
  bool json = false, no_md5 = false, time = false;
  int repeats = 20;
  std::string device = "auto";  // add_device_option: auto decodes on the CPU
  std::string decoder = "auto";
};

struct FrameReport {
  std::string path;
  cbf::CbfView view;  // payload points into the caller's buffer; only header fields are used after decode
  cbf::Md5Status md5 = cbf::Md5Status::absent;
  int64_t min = 0, max = 0, sum = 0;
  std::string pixels_md5;
  std::optional<double> decode_ms;
};

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json header_json(const cbf::PilatusHeader& h) {
  json j = {{"convention", h.convention},
            {"detector", h.detector},
            {"timestamp", h.timestamp},
            {"pixel_size_x_m", opt(h.pixel_size_x_m)},
            {"pixel_size_y_m", opt(h.pixel_size_y_m)},
            {"exposure_time_s", opt(h.exposure_time_s)},
            {"exposure_period_s", opt(h.exposure_period_s)},
            {"tau_s", opt(h.tau_s)},
            {"count_cutoff", opt(h.count_cutoff)},
            {"threshold_eV", opt(h.threshold_eV)},
            {"n_excluded_pixels", opt(h.n_excluded_pixels)},
            {"wavelength_A", opt(h.wavelength_A)},
            {"detector_distance_m", opt(h.detector_distance_m)},
            {"beam_x_px", opt(h.beam_x_px)},
            {"beam_y_px", opt(h.beam_y_px)},
            {"other", h.other}};
  return j;
}

json report_json(const FrameReport& r, const std::string& decoder) {
  const auto& b = r.view.binary;
  json j = {{"path", r.path},
            {"width", b.width},
            {"height", b.height},
            {"element_type", b.element_type_text},
            {"compressed_bytes", b.binary_size},
            {"bytes_per_pixel", double(b.binary_size) / double(b.width * b.height)},
            {"md5", cbf::to_string(r.md5)},
            {"min", r.min},
            {"max", r.max},
            {"sum", r.sum},
            {"pixels_md5", r.pixels_md5},
            {"decoder", decoder},
            {"header", header_json(r.view.header)}};
  if (r.decode_ms) j["decode_ms"] = *r.decode_ms;
  return j;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void print_human(const FrameReport& r, const std::string& decoder) {
  const auto& b = r.view.binary;
  const auto& h = r.view.header;
  std::printf("%s\n", r.path.c_str());
  std::printf("  image       %zu x %zu, %s, byte-offset %zu bytes (%.3f bytes/pixel)\n", b.width, b.height,
              b.element_type_text.c_str(), b.binary_size, double(b.binary_size) / double(b.width * b.height));
  std::printf("  MD5         %s\n", cbf::to_string(r.md5));
  std::printf("  pixels      min %lld  max %lld  sum %lld  md5 %s\n", (long long)r.min, (long long)r.max,
              (long long)r.sum, r.pixels_md5.c_str());
  if (!h.detector.empty() || !h.timestamp.empty())
    std::printf("  detector    %s%s%s\n", h.detector.c_str(), h.timestamp.empty() ? "" : "  ", h.timestamp.c_str());
  if (!h.convention.empty()) std::printf("  convention  %s\n", h.convention.c_str());
  std::string geo;
  if (h.wavelength_A) geo += "wavelength " + fmt("%g", *h.wavelength_A) + " A  ";
  if (h.detector_distance_m) geo += "distance " + fmt("%g", *h.detector_distance_m) + " m  ";
  if (h.beam_x_px && h.beam_y_px)
    geo += "beam (" + fmt("%g", *h.beam_x_px) + ", " + fmt("%g", *h.beam_y_px) + ") px  ";
  if (h.pixel_size_x_m && h.pixel_size_y_m)
    geo += "pixel " + fmt("%g", *h.pixel_size_x_m * 1e6) + " x " + fmt("%g", *h.pixel_size_y_m * 1e6) + " um";
  if (!geo.empty()) std::printf("  geometry    %s\n", geo.c_str());
  std::string acq;
  if (h.exposure_time_s) acq += "exposure " + fmt("%g", *h.exposure_time_s) + " s  ";
  if (h.exposure_period_s) acq += "period " + fmt("%g", *h.exposure_period_s) + " s  ";
  if (h.threshold_eV) acq += "threshold " + fmt("%g", *h.threshold_eV) + " eV  ";
  if (h.count_cutoff) acq += "cutoff " + std::to_string(*h.count_cutoff) + " counts  ";
  if (h.n_excluded_pixels) acq += "excluded " + std::to_string(*h.n_excluded_pixels) + " px";
  if (!acq.empty()) std::printf("  acquisition %s\n", acq.c_str());
  if (!h.other.empty()) std::printf("  other       %zu more header lines (--json shows them)\n", h.other.size());
  if (r.decode_ms) std::printf("  decode      %.3f ms (median, %s)\n", *r.decode_ms, decoder.c_str());
}

// Read, parse, verify, decode and summarize one file; `buf` and `pixels` are reused from file to file.
FrameReport inspect(const std::string& path, const InfoOptions& o, FrameDecoder& dec, std::vector<uint8_t>& buf,
                    std::vector<int32_t>& pixels) {
  FrameReport r;
  r.path = path;
  cbf::read_file(path, buf);
  r.view = cbf::parse(buf, path);
  r.md5 = cbf::check_md5(r.view);
  if (r.md5 == cbf::Md5Status::mismatch && !o.no_md5)
    throw Error(path, Error::at_field("Content-MD5"),
                "payload MD5 is " + to_base64(md5(r.view.payload)) + ", expected " + *r.view.binary.content_md5 +
                    " (file corrupted? --no-md5 reports it without failing)");
  pixels.resize(r.view.binary.width * r.view.binary.height);
  dec.decode(r.view, pixels);
  if (o.time) {
    std::vector<double> ms;
    for (int i = 0; i < o.repeats; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      dec.decode(r.view, pixels);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    r.decode_ms = harness::median(ms);
  }
  r.min = std::numeric_limits<int64_t>::max();
  r.max = std::numeric_limits<int64_t>::min();
  for (int32_t v : pixels) {
    r.min = std::min<int64_t>(r.min, v);
    r.max = std::max<int64_t>(r.max, v);
    r.sum += v;
  }
  static_assert(std::endian::native == std::endian::little, "pixels_md5 hashes little-endian int32");
  r.pixels_md5 = to_hex(md5({reinterpret_cast<const uint8_t*>(pixels.data()), pixels.size() * sizeof(int32_t)}));
  r.view.payload = {};  // the buffer is reused for the next file
  return r;
}

int cbf_info(int argc, char** argv) {
  InfoOptions o;
  std::vector<std::string> files;
  const Help help{
      "xrdbench cbf info [--json] [--no-md5] [--time [--repeats N]] [--device D] [--decoder K] FILE...",
      "Reads each CBF file, checks its Content-MD5, decodes the byte-offset payload and prints the image size,\n"
      "the Pilatus header (detector, wavelength, distance, beam centre, ...), the MD5 status and pixel statistics\n"
      "(min, max, sum, MD5 of the pixels as little-endian int32). A file that cannot be read is reported on stderr\n"
      "with the reason; the other files are still reported and the exit status is 1 (2: a usage error).",
      {"xrdbench cbf info --json --time frame_0001.cbf"}};
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(&o.json),
                     "print a JSON array, one object per file (keys: path, width, "
                     "height, element_type, compressed_bytes, bytes_per_pixel, md5, "
                     "min, max, sum, pixels_md5, decoder, header[, decode_ms])");
  add_no_md5_option(desc, o.no_md5, "the MD5 status is still shown: md5 \"mismatch\" and a warning");
  desc.add_options()(
      "time", po::bool_switch(&o.time),
      "also time the decode of the in-memory payload: decode_ms is the median of --repeats decodes")(
      "repeats", po::value<int>(&o.repeats)->default_value(20), "decodes timed per file with --time (>= 20)");
  add_device_option(desc, o.device, "where cbf info decodes (auto: on the CPU)");
  desc.add_options()(
      "decoder", po::value<std::string>(&o.decoder)->default_value("auto"),
      "CPU byte-offset kernel: auto (the best this CPU runs), avx512vbmi2, avx512vnni, avx512, avx2 or scalar; an error when\n"
      "this CPU lacks it. The kernel used is printed (\"decode ... (median, cpu (avx2))\", JSON key decoder)");
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::vector<std::string>>(&files), "CBF files");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  if (!parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (files.empty()) usage_error("no FILE given");
  if (o.repeats < 20) usage_error("--repeats must be at least 20 (a median of fewer is not worth much)");

  try {
    byte_offset::use_decoder(o.decoder);
  } catch (const Error& e) {
    std::fprintf(stderr, "xrdbench cbf info: %s\n", e.what());
    return 2;
  }
  auto decoder = make_decoder(resolve_device(o.device, false));
  std::vector<uint8_t> buf;
  std::vector<int32_t> pixels;
  json out = json::array();
  int failures = 0;
  // A status line only when it cannot interleave with the report (stdout redirected, stderr a terminal).
  std::optional<harness::Progress> progress;
  if (files.size() > 1 && !::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO)) {
    progress.emplace(1);
    progress->start_row(0, "cbf info", files.size());
  }
  bool first = true;
  for (const auto& f : files) {
    try {
      FrameReport r = inspect(f, o, *decoder, buf, pixels);
      if (r.md5 == cbf::Md5Status::mismatch)
        std::fprintf(stderr, "xrdbench cbf info: warning: %s: Content-MD5 mismatch (ignored: --no-md5)\n", f.c_str());
      if (o.json) {
        out.push_back(report_json(r, decoder->name()));
      } else {
        if (!first) std::printf("\n");
        print_human(r, decoder->name());
        std::fflush(stdout);
      }
      first = false;
    } catch (const Error& e) {
      ++failures;
      std::string msg = e.file().empty() ? f + ": " + e.what() : std::string(e.what());
      if (progress && progress->active()) progress->note("xrdbench cbf info: error: " + msg);
      else std::fprintf(stderr, "xrdbench cbf info: error: %s\n", msg.c_str());
    } catch (const std::exception& e) {
      ++failures;
      std::fprintf(stderr, "xrdbench cbf info: error: %s: %s\n", f.c_str(), e.what());
    }
    if (progress) progress->add_frames(1);
  }
  progress.reset();
  if (o.json) std::printf("%s\n", out.dump(2).c_str());
  if (failures)
    std::fprintf(stderr, "xrdbench cbf info: %d of %zu file(s) failed\n", failures, files.size());
  return failures ? 1 : 0;
}

int cbf_encode(int argc, char** argv) {
  size_t width = 0, height = 0;
  std::string in, out, header_from;
  const Help help{
      "xrdbench cbf encode --width W --height H [--header-from FILE.cbf] IN.i32le OUT.cbf",
      "Writes raw pixels (little-endian int32, row-major, W*H values) as a CBF file with a Pilatus-style header,\n"
      "byte-offset payload, Content-MD5 and 4095 bytes of padding, as a Pilatus detector writes them.\n"
      "--header-from copies the Pilatus header (detector, wavelength, distance, beam centre, ...) of another CBF.",
      {"xrdbench cbf encode --width 1475 --height 1679 frame.i32le frame.cbf"}};
  po::options_description desc("Options");
  desc.add_options()("width", po::value<size_t>(&width), "image width (fastest dimension)")(
      "height", po::value<size_t>(&height), "image height")("header-from", po::value<std::string>(&header_from),
                                                            "CBF file whose Pilatus header to copy");
  po::options_description hidden;
  hidden.add_options()("in", po::value<std::string>(&in))("out", po::value<std::string>(&out));
  po::positional_options_description pos;
  pos.add("in", 1).add("out", 1);
  po::variables_map vm;
  if (!parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (in.empty() || out.empty() || !width || !height) usage_error("need --width, --height, IN and OUT");
  cbf::PilatusHeader header;
  std::vector<uint8_t> buf;
  if (!header_from.empty()) {
    cbf::read_file(header_from, buf);
    header = cbf::parse(buf, header_from).header;
  }
  if (width > cbf::kMaxPixels || height > cbf::kMaxPixels || width * height > cbf::kMaxPixels)
    throw Error(in, "", "--width x --height is too large: expected at most " + std::to_string(cbf::kMaxPixels));
  cbf::read_file(in, buf);
  if (buf.size() != width * height * sizeof(int32_t))
    throw Error(in, "", std::to_string(buf.size()) + " bytes: expected " + std::to_string(width) + " x " +
                            std::to_string(height) + " x 4 = " + std::to_string(width * height * 4) +
                            " bytes of little-endian int32");
  std::vector<int32_t> px(width * height);
  std::memcpy(px.data(), buf.data(), buf.size());
  cbf::write(out, px, width, height, header);
  return 0;
}

CommandRegistrar reg_info{"cbf info", "summarize CBF files: header, MD5 check, pixel statistics, decode time",
                          cbf_info};
CommandRegistrar reg_encode{"cbf encode", "write raw int32 pixels as a Pilatus-style CBF file", cbf_encode};

}  // namespace
}  // namespace xrd::cli
