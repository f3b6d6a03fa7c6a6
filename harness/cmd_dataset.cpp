// `xrdbench dataset synth`: writes a synthetic Pilatus3 2M dataset (frames, geometry.poni, mask.cbf,
// manifest.json), deterministic from the seed whatever the thread count; `xrdbench dataset verify` checks one
// against its manifest.
#include <cstdio>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "datasets/manifest.hpp"
#include "datasets/synth_dataset.hpp"
#include "harness/cli.hpp"
#include "harness/progress.hpp"

namespace po = boost::program_options;

namespace xrd::cli {
namespace {

// A usage error (exit 2, the usage on stderr: main.cpp); returns to keep the callers' `return usage_error(...)`.
int usage_error(const char*, const std::string& msg) { cli::usage_error(msg); }

int dataset_synth(int argc, char** argv) {
  const int hw = std::max(1, int(std::thread::hardware_concurrency()));
  std::string out, detector, format = "cbf", pixel;
  long long frames = 0, threads = hw, scan_steps = 41, frames_per_file = 1000;
  unsigned long long seed = 1234;
  const Help help{
      "xrdbench dataset synth --out DIR --frames N [--seed S] [--threads T] [--detector NAME]\n"
      "                              [--format cbf|h5 [--pixel TYPE] [--frames-per-file N]]",
      "Writes a synthetic Pilatus3 2M dataset into DIR: frame_00000.cbf ... (1475 x 1679 int32, byte-offset,\n"
      "~2.5 MB each: powder rings of LaB6, CeO2 and Al whose intensities and widths follow a sinogram scan,\n"
      "smooth background, Poisson noise, module gaps -1, dead pixels -2, hot pixels > 2^20), geometry.poni\n"
      "(pyFAI version 2, the geometry the rings are drawn with), mask.cbf (int32, nonzero = masked) and\n"
      "manifest.json (per-file size and MD5, seed, parameters, phases). The same seed gives the same bytes\n"
      "whatever --threads. The paper's dataset is 1202 frames (3 GB). --detector draws the same model on another\n"
      "detector's shape and gaps (`xrdbench realtime --help` lists the presets).\n\n"
      "--format h5 writes the same frames as an Eiger2 / Pilatus4-style NXmx dataset instead of CBF files:\n"
      "synth_master.h5 (detector metadata, pixel_mask, /entry/data/data_NNNNNN external links) and\n"
      "synth_data_000001.h5 ... (--frames-per-file frames each, one bitshuffle-LZ4 chunk per frame, HDF5 filter\n"
      "32008: h5py + the bitshuffle plugin read them), --pixel uint16|uint32|int32 (unsigned: gaps, dead pixels\n"
      "and values >= 2^N - 1 are stored as 2^N - 1, the overflow flag readers mask), plus geometry.poni, mask.cbf\n"
      "and manifest.json (\"layout\": \"nxmx\", listing the HDF5 files).",
      {"xrdbench dataset synth --out out/synth-60 --frames 60",
       "xrdbench dataset synth --out DIR --frames 100 --detector eiger2-4m --format h5"}};
  po::options_description desc("Options");
  desc.add_options()("out,o", po::value(&out), "output folder (created when missing)")(
      "frames,n", po::value(&frames), "number of frames (>= 1)")("seed,s", po::value(&seed)->default_value(seed),
                                                                  "random seed")(
      "threads,j", po::value(&threads)->default_value(threads), "worker threads (>= 1; default: every core)")(
      "scan-steps", po::value(&scan_steps)->default_value(scan_steps),
      "translations per scan line (frames = lines x steps; lines step 6 degrees)")(
      "detector", po::value(&detector),
      ("draw the frames for this detector preset instead: its shape, pixel size and module gaps, the geometry moved "
       "onto it (docs/detectors.md): " + detectors::known_names()).c_str())(
      "format", po::value(&format)->default_value(format), "cbf (a byte-offset CBF per frame) | h5 (NXmx, bitshuffle-LZ4)")(
      "pixel", po::value(&pixel),
      "--format h5: stored pixel type uint16 | uint32 | int32 (default: uint16 for a 16-bit --detector, else uint32)")(
      "frames-per-file", po::value(&frames_per_file)->default_value(frames_per_file),
      "--format h5: frames per data file (0: one single file, frames in the master)");
  po::variables_map vm;
  if (!parse(argc, argv, help, desc, vm)) return 0;
  if (out.empty()) return usage_error(argv[0], "--out DIR is required");
  if (!vm.count("frames")) return usage_error(argv[0], "--frames N is required");
  if (frames < 1) return usage_error(argv[0], "--frames must be at least 1, got " + std::to_string(frames));
  if (frames > 10000000) return usage_error(argv[0], "--frames " + std::to_string(frames) + " is too many");
  if (threads < 1 || threads > 4096)
    return usage_error(argv[0], "--threads must be between 1 and 4096, got " + std::to_string(threads));
  if (scan_steps < 2) return usage_error(argv[0], "--scan-steps must be at least 2");
  if (format != "cbf" && format != "h5") return usage_error(argv[0], "--format must be cbf or h5, got " + format);
  byte_offset::ElementType element = byte_offset::ElementType::u32;
  if (pixel.empty() && !detector.empty()) {
    try {
      if (detectors::find(detector).bit_depth <= 16) pixel = "uint16";
    } catch (const std::exception& e) {
      return usage_error(argv[0], e.what());
    }
  }
  if (pixel.empty()) pixel = "uint32";
  if (pixel == "uint16")
    element = byte_offset::ElementType::u16;
  else if (pixel == "int32")
    element = byte_offset::ElementType::i32;
  else if (pixel != "uint32")
    return usage_error(argv[0], "--pixel must be uint16, uint32 or int32, got " + pixel);
  if (frames_per_file < 0) return usage_error(argv[0], "--frames-per-file must be 0 or more");

  synth::Params p;
  if (!detector.empty()) {
    try {
      p = synth::for_detector(detectors::find(detector));
    } catch (const std::exception& e) {
      return usage_error(argv[0], e.what());
    }
  }
  p.seed = seed;
  p.frames = size_t(frames);
  p.scan_steps = size_t(scan_steps);
  synth::DatasetOptions opt;
  opt.out = out;
  opt.threads = int(threads);
  opt.tool_version = XRD_VERSION;
  opt.format = format;
  opt.element = element;
  opt.frames_per_file = size_t(frames_per_file);
  harness::Progress progress(1);
  progress.start_row(0, "dataset synth -> " + out, p.frames);
  if (progress.active()) opt.on_frame = [&] { progress.add_frames(1); };

  const synth::DatasetResult r = synth::write_dataset(p, opt);
  progress.clear();
  const auto& m = r.manifest;
  const double mean = double(m.total_bytes) / double(m.frames);
  std::printf("wrote %zu frames to %s: %.3f MB/frame (%.2fx vs int32), %.3f GB in all\n", m.frames, out.c_str(),
              mean / 1e6, double(p.layout.pixels() * 4) / mean, double(m.total_bytes) / 1e9);
  std::printf("%.2f s for the frames (%.1f frames/s, %lld threads) + %.2f s setup\n", r.seconds,
              r.frames_per_second(), threads, r.setup_seconds);
  if (r.stale_frames)
    std::fprintf(stderr,
                 "note: %s holds %zu more frame_*.cbf files from an earlier, longer dataset; they are not part of "
                 "this one (manifest.json lists the frames)\n",
                 out.c_str(), r.stale_frames);
  return 0;
}

int dataset_verify(int argc, char** argv) {
  std::string dir;
  bool no_md5 = false;
  const Help help{"xrdbench dataset verify DIR [--no-md5]",
                  "Checks every file listed in DIR/manifest.json: present, same size and (unless --no-md5) same MD5.\n"
                  "Exit status 0 when all match, 1 otherwise, 2 a usage error.",
                  {"xrdbench dataset verify out/synth-60"}};
  po::options_description desc("Options");
  add_no_md5_option(desc, no_md5, "sizes only: the files are not read");
  po::options_description hidden;
  hidden.add_options()("dir", po::value(&dir), "dataset folder");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (dir.empty()) return usage_error(argv[0], "DIR is required");
  const auto m = manifest::read(std::filesystem::path(dir) / manifest::kFileName);
  const auto problems = manifest::verify(dir, m, !no_md5);
  for (auto& s : problems) std::printf("%s\n", s.c_str());
  std::printf("%s: %zu frames + geometry + mask, %zu problem(s)\n", dir.c_str(), m.files.size(), problems.size());
  return problems.empty() ? 0 : 1;
}

const CommandRegistrar reg_synth("dataset synth", "write a synthetic Pilatus3 2M dataset (CBF frames + PONI + mask)",
                                 dataset_synth);
const CommandRegistrar reg_verify("dataset verify", "check a dataset folder against its manifest.json",
                                  dataset_verify);

}  // namespace
}  // namespace xrd::cli
