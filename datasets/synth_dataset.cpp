// The dataset writer: a pool of workers, each with its own reused buffers, takes the next frame index, generates
// it, encodes it (cbf::write_to), hashes the file bytes and writes them; manifest.json comes last.
#include "datasets/synth_dataset.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <numeric>
#include <numbers>
#include <stdexcept>
#include <thread>

#include "datasets/cbf.hpp"
#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "base/error.hpp"
#include "kernels/md5.hpp"

namespace xrd::synth {
namespace {

using nlohmann::json;
using clock_type = std::chrono::steady_clock;

void write_all(const std::filesystem::path& p, std::span<const uint8_t> bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(p.string(), "", std::string("cannot open for writing: ") + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw Error(p.string(), Error::at_byte(done), std::string("write failed: ") + std::strerror(e));
    }
    done += size_t(n);
  }
  if (::close(fd) != 0) throw Error(p.string(), "", std::string("close failed: ") + std::strerror(errno));
}

double round6(double v) { return std::round(v * 1e6) / 1e6; }

manifest::FileEntry entry(const std::string& name, std::span<const uint8_t> bytes) {
  return {name, bytes.size(), to_hex(md5(bytes)), json::object()};
}

json phases_json(const Generator& g) {
  json a = json::array();
  for (auto& ph : g.phases()) {
    json refl = json::array();
    for (auto& r : ph.reflections)
      refl.push_back({{"hkl", r.hkl}, {"s", r.s}, {"d_A", round6(r.d)}, {"tth_deg", round6(r.tth * 180 / std::numbers::pi)},
                      {"weight", round6(r.weight)}});
    a.push_back({{"name", ph.name}, {"structure", ph.structure}, {"a_A", ph.a}, {"scale", ph.scale},
                 {"texture", ph.texture}, {"reflections", refl}});
  }
  return a;
}

json parameters_json(const Params& p, const Generator& g) {
  auto bc = g.beam_centre_px();
  return {{"distance_m", p.distance},
          {"poni1_m", p.poni1},
          {"poni2_m", p.poni2},
          {"rot1_rad", p.rot1},
          {"rot2_rad", p.rot2},
          {"rot3_rad", p.rot3},
          {"wavelength_m", p.wavelength},
          {"detector", p.layout.detector},
          {"pixel_size_m", p.layout.pixel_size},
          {"beam_centre_px", {round6(bc[0]), round6(bc[1])}},
          {"tth_max_deg", round6(g.tth_max() * 180 / std::numbers::pi)},
          {"air_level", p.air_level},
          {"amorphous_level", p.amorphous_level},
          {"ring_level", p.ring_level},
          {"dead_pixels", p.dead_pixels},
          {"hot_pixels", p.hot_pixels},
          {"scan_steps", p.scan_steps},
          {"exposure_s", p.exposure_s},
          {"mask_codes", {{"gap", kMaskGap}, {"dead", kMaskDead}, {"hot", kMaskHot}}},
          {"model",
           "counts = Poisson(solid_angle * (air(2th) + amorphous(2th) * thickness + sum_phases fraction * "
           "(1 + texture * cos 2(chi - phi)) * pseudo-Voigt rings)); gaps -1, dead -2, hot > 2^20; "
           "scan: translations x rotations through an Al disc with LaB6 and CeO2 inclusions"}};
}

json frame_json(const Generator& g, size_t i, const ByteOffsetStats& st) {
  const FrameInfo fi = g.frame_info(i);
  json fr = json::object(), cs = json::object(), ms = json::object();
  for (size_t k = 0; k < g.phases().size() && k < fi.fraction.size(); ++k) {
    fr[g.phases()[k].name] = round6(fi.fraction[k]);
    cs[g.phases()[k].name] = round6(fi.crystallite_nm[k]);
    ms[g.phases()[k].name] = round6(fi.microstrain[k]);
  }
  return {{"frame", i},
          {"angle_deg", round6(fi.angle_deg)},
          {"translation", round6(fi.translation)},
          {"fractions", fr},
          {"crystallite_nm", cs},
          {"microstrain", ms},
          {"byte_offset", {{"n1", st.n1}, {"n3", st.n3}, {"n7", st.n7}, {"n15", st.n15}}}};
}

// frame_NNNNN.cbf files whose index is >= frames (a previous, longer dataset): counted, never deleted.
size_t count_stale(const std::filesystem::path& dir, size_t frames) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < 11 || name.rfind("frame_", 0) != 0 || name.substr(name.size() - 4) != ".cbf") continue;
    const std::string digits = name.substr(6, name.size() - 10);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12) continue;
    if (std::stoull(digits) >= frames) ++n;
  }
  return n;
}

// Pixel values as an unsigned detector stores them: negative (gaps, dead) and too large -> 2^N - 1.
void to_detector(std::span<int32_t> v, byte_offset::ElementType t) {
  if (t == byte_offset::ElementType::i32) return;
  const int64_t top = t == byte_offset::ElementType::u16 ? 65535 : 4294967295LL;
  for (auto& x : v)
    if (x < 0 || x >= top) x = static_cast<int32_t>(static_cast<uint32_t>(top));
}

}  // namespace

std::string frame_name(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "frame_%05zu.cbf", i);
  return buf;
}

DatasetResult write_dataset(const Params& p, const DatasetOptions& opt) {
  if (p.frames == 0) throw std::invalid_argument("frames must be at least 1");
  if (opt.threads < 1) throw std::invalid_argument("threads must be at least 1");
  if (opt.out.empty()) throw std::invalid_argument("no output folder given");
  const auto t0 = clock_type::now();

  std::error_code ec;
  std::filesystem::create_directories(opt.out, ec);
  if (ec) throw Error(opt.out.string(), "", "cannot create the output folder: " + ec.message());
  if (!std::filesystem::is_directory(opt.out)) throw Error(opt.out.string(), "", "exists and is not a folder");
  // A manifest left by an earlier run would describe files we are about to overwrite: remove it first.
  const auto manifest_path = opt.out / manifest::kFileName;
  std::filesystem::remove(manifest_path, ec);
  if (ec) throw Error(manifest_path.string(), "", "cannot remove the previous manifest: " + ec.message());

  // The PONI first: the cheapest way to learn that the folder is not writable.
  DatasetResult res;
  manifest::Manifest& m = res.manifest;
  {
    const std::string poni = poni_text(p);
    const auto bytes = std::span(reinterpret_cast<const uint8_t*>(poni.data()), poni.size());
    write_all(opt.out / "geometry.poni", bytes);
    m.geometry = entry("geometry.poni", bytes);
  }
  const Generator g(p, opt.threads);
  {
    cbf::PilatusHeader h;
    h.detector = p.layout.detector + " mask (synthetic, " + std::string(kGeneratorName) + "): nonzero = masked, " +
                 std::to_string(kMaskGap) + " gap, " + std::to_string(kMaskDead) + " dead, " +
                 std::to_string(kMaskHot) + " hot";
    const auto path = opt.out / "mask.cbf";
    cbf::write(path, g.mask(), p.layout.width, p.layout.height, h);
    std::vector<uint8_t> bytes;
    cbf::read_file(path, bytes);
    m.mask = entry("mask.cbf", bytes);
    size_t gaps = 0;
    for (int32_t v : g.mask()) gaps += v == kMaskGap;
    m.mask.extra = {{"masked_pixels", gaps + g.dead_pixels().size() + g.hot_pixels().size()},
                    {"gap_pixels", gaps},
                    {"dead_pixels", g.dead_pixels().size()},
                    {"hot_pixels", g.hot_pixels().size()},
                    {"codes", {{"gap", kMaskGap}, {"dead", kMaskDead}, {"hot", kMaskHot}}}};
  }
  const auto t1 = clock_type::now();
  res.setup_seconds = std::chrono::duration<double>(t1 - t0).count();

  const bool h5 = opt.format == "h5";
  if (!h5 && opt.format != "cbf") throw std::invalid_argument("format must be cbf or h5, got " + opt.format);
  std::unique_ptr<nxmx::Writer> writer;
  std::vector<uint64_t> chunk_bytes(p.frames);
  if (h5) {
    nxmx::WriteOptions wo;
    wo.width = p.layout.width;
    wo.height = p.layout.height;
    wo.frames = p.frames;
    wo.element = opt.element;
    wo.frames_per_file = opt.frames_per_file;
    wo.pixel_mask.assign(g.mask().begin(), g.mask().end());
    for (auto& x : wo.pixel_mask) x = x != 0;
    wo.description = p.layout.detector + " (synthetic, " + std::string(kGeneratorName) + ") as NXmx, bitshuffle-LZ4";
    wo.pixel_size_m = p.layout.pixel_size;
    wo.distance_m = p.distance;
    wo.wavelength_m = p.wavelength;
    const auto bc = g.beam_centre_px();
    wo.beam_center_x_px = bc[0];
    wo.beam_center_y_px = bc[1];
    writer = std::make_unique<nxmx::Writer>(opt.out / kMasterName, wo);
  }
  m.files.resize(h5 ? 0 : p.frames);
  std::vector<json> frame_infos(h5 ? p.frames : 0);
  std::vector<ByteOffsetStats> stats(p.frames);
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex err_mu;
  std::exception_ptr error;
  auto worker = [&] {
    std::vector<int32_t> pixels(p.layout.pixels());
    std::vector<uint8_t> file, scratch;
    FrameScratch fs;
    try {
      for (size_t i; !stop.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < p.frames;) {
        g.frame(i, pixels, fs);
        stats[i] = byte_offset_stats(pixels);
        if (h5) {
          to_detector(pixels, opt.element);
          const auto chunk = bslz4::encode(bslz4::to_element_bytes(pixels, opt.element),
                                           bslz4::element_size(opt.element));
          chunk_bytes[i] = chunk.size();
          writer->write_chunk(i, chunk);
          frame_infos[i] = frame_json(g, i, stats[i]);
          if (opt.on_frame) opt.on_frame();
          continue;
        }
        cbf::write_to(file, pixels, p.layout.width, p.layout.height, g.header(i), scratch);
        const std::string name = frame_name(i);
        m.files[i] = entry(name, file);
        write_all(opt.out / name, file);
        m.files[i].extra = frame_json(g, i, stats[i]);
        if (opt.on_frame) opt.on_frame();
      }
    } catch (...) {
      std::lock_guard lk(err_mu);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };
  {
    std::vector<std::thread> pool;
    const size_t n = std::min(size_t(opt.threads), p.frames);
    for (size_t t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
  }
  if (error) std::rethrow_exception(error);
  if (h5) {
    writer->close();
    for (const auto& f : writer->files())
      m.files.push_back({f.filename().string(), std::filesystem::file_size(f), manifest::file_md5(f),
                         json::object()});
    m.layout = "nxmx";
    m.dtype = opt.element == byte_offset::ElementType::u16 ? "uint16" : opt.element == byte_offset::ElementType::u32 ? "uint32" : "int32";
  }
  const auto t2 = clock_type::now();
  res.seconds = std::chrono::duration<double>(t2 - t1).count();

  m.generator = kGeneratorName;
  m.generator_version = kGeneratorVersion;
  m.xrdbench_version = opt.tool_version;
  m.seed = p.seed;
  m.frames = p.frames;
  m.width = p.layout.width;
  m.height = p.layout.height;
  m.phases = phases_json(g);
  m.parameters = parameters_json(p, g);
  {
    // The scan the frames follow: scan_steps translations per line, one rotation angle per line.
    manifest::Scan scan;
    scan.translations = p.scan_steps;
    scan.rotations = (p.frames + p.scan_steps - 1) / p.scan_steps;
    for (size_t r = 0; r < scan.rotations; ++r) scan.rotation_deg.push_back(round6(g.frame_info(r * p.scan_steps).angle_deg));
    for (size_t t = 0; t < scan.translations; ++t) scan.translation.push_back(round6(g.frame_info(t).translation));
    scan.translation_units = "sample radii";
    m.scan = manifest::to_json(scan);
  }
  uint64_t total = 0, smin = UINT64_MAX, smax = 0;
  for (const auto& f : m.files) total += f.size;
  ByteOffsetStats all;
  for (size_t i = 0; i < p.frames; ++i) {
    const uint64_t frame_bytes = h5 ? chunk_bytes[i] : m.files[i].size;
    smin = std::min(smin, frame_bytes);
    smax = std::max(smax, frame_bytes);
    all.n1 += stats[i].n1;
    all.n3 += stats[i].n3;
    all.n7 += stats[i].n7;
    all.n15 += stats[i].n15;
  }
  m.total_bytes = total;
  uint64_t payload = total;  // HDF5: the chunks only (the files add their metadata)
  if (h5) payload = std::accumulate(chunk_bytes.begin(), chunk_bytes.end(), uint64_t{0});
  const double mean = double(payload) / double(p.frames);
  const double n = double(all.count());
  m.statistics = {{"mean_frame_bytes", round6(mean)},
                  {"min_frame_bytes", smin},
                  {"max_frame_bytes", smax},
                  {"raw_int32_bytes", p.layout.pixels() * 4},
                  {"compression_ratio", round6(double(p.layout.pixels() * 4) / mean)},
                  {"bytes_per_pixel", round6(mean / double(p.layout.pixels()))},
                  {"byte_offset_fractions",
                   {{"1", round6(all.n1 / n)}, {"3", all.n3 / n}, {"7", all.n7 / n}, {"15", all.n15 / n}}},
                  {"generation", {{"threads", opt.threads},
                                  {"seconds", res.seconds},
                                  {"setup_seconds", res.setup_seconds},
                                  {"frames_per_second", res.frames_per_second()}}}};
  m.statistics["codec"] = h5 ? "bitshuffle-lz4" : "byte-offset";
  if (h5) {
    m.statistics["frames_per_file"] = opt.frames_per_file;
    m.statistics["frame_info"] = std::move(frame_infos);
  }
  manifest::write(manifest_path, m);
  res.stale_frames = count_stale(opt.out, p.frames);
  return res;
}

}  // namespace xrd::synth
