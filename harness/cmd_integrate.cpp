// `xrdbench integrate`: azimuthal integration of CBF frames with a pyFAI PONI geometry, to CSV / text (one frame) or
// NeXus/HDF5 (frames x bins). It runs through the strategies, as `xrdbench run` does (one data path): the files are a
// frames::CbfFileSource, the strategy `pipeline` (oneTBB: read -> decode + integrate with --engine on one core per
// frame -> write in order) or, with --device opencl, `opencl-batched` (compressed frames decoded and integrated on
// the device, batches of 16), and the patterns go to a file sink (an HDF5 row per frame, or the CSV / text file).
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/frame_source.hpp"
#include "datasets/image_io.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "harness/cli.hpp"
#include "harness/h5_process.hpp"
#include "harness/h5_writer.hpp"
#include "base/profiler.hpp"
#include "harness/runner.hpp"
#include "base/error.hpp"
#include "kernels/integrate.hpp"
#include "kernels/ocl_device.hpp"
#include "strategies/engines.hpp"
#include "strategies/strategy.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace xrd::cli {
namespace {

enum class OutFormat { hdf5, csv, text };

// The output format from OUT's suffix; any other suffix is an error naming the accepted ones.
OutFormat out_format(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (e == ".h5" || e == ".hdf5" || e == ".nxs" || e == ".hdf") return OutFormat::hdf5;
  if (e == ".csv") return OutFormat::csv;
  if (e == ".xy" || e == ".dat") return OutFormat::text;
  throw std::invalid_argument("--out " + p.string() + ": unknown suffix '" + e +
                              "' (accepted: .h5 .hdf5 .nxs .hdf for NeXus/HDF5, .csv, .xy .dat for pyFAI-style text)");
}

// What the text formats say about the reduction.
struct TextHeader {
  integration::Geometry geometry;
  integration::Options opt;
  std::string poni, mask, dark, flat, source;
};

// CSV: the radial column is named by its unit (pyFAI's name), then intensity, sigma, count.
// Text (.xy/.dat): pyFAI's save_1D layout: a '#' header with the geometry, corrections and unit, then columns
// radial intensity sigma (numpy.loadtxt reads it).
void write_text(const fs::path& p, const integration::Pattern& pat, bool csv, const TextHeader& h) {
  std::FILE* f = std::fopen(p.c_str(), "w");
  if (!f) throw Error(p.string(), "", std::string("cannot create the file: ") + std::strerror(errno));
  const char* unit = integration::to_string(h.opt.unit);
  if (csv) {
    std::fprintf(f, "%s,intensity,sigma,count\n", unit);
    for (size_t b = 0; b < pat.radial.size(); ++b)
      std::fprintf(f, "%.10g,%.10g,%.10g,%.10g\n", pat.radial[b], pat.intensity[b], pat.sigma[b], pat.count[b]);
  } else {
    const integration::Geometry& g = h.geometry;
    std::fprintf(f, "# == pyFAI calibration ==\n");
    std::fprintf(f, "# Distance Sample to Detector: %.10g m\n", g.dist);
    std::fprintf(f, "# PONI: %.4e, %.4e m\n", g.poni1, g.poni2);
    std::fprintf(f, "# Rotations: %.6f %.6f %.6f rad\n#\n", g.rot1, g.rot2, g.rot3);
    std::fprintf(f, "# Detector %s\t PixelSize= %.3e, %.3e m\n", g.detector.c_str(), g.pixel1, g.pixel2);
    std::fprintf(f, "# Wavelength: %.10g m\n", g.wavelength);
    std::fprintf(f, "# PONI file: %s\n", h.poni.c_str());
    std::fprintf(f, "# Mask applied: %s\n", h.mask.empty() ? "False (negative pixels only)" : h.mask.c_str());
    std::fprintf(f, "# Dark current applied: %s\n", h.dark.empty() ? "False" : h.dark.c_str());
    std::fprintf(f, "# Flat field applied: %s\n", h.flat.empty() ? "False" : h.flat.c_str());
    if (h.opt.polarization) std::fprintf(f, "# Polarization factor: %.6g\n", *h.opt.polarization);
    else std::fprintf(f, "# Polarization factor: None\n");
    std::fprintf(f, "# Normalization factor: %.10g\n", h.opt.normalization);
    std::fprintf(f, "# Solid angle correction: %s\n", h.opt.solid_angle ? "True" : "False");
    std::fprintf(f, "# Pixel splitting: %s\n", integration::to_string(h.opt.split));
    std::fprintf(f, "# Program: xrdbench %s integrate\n", XRD_VERSION);
    std::fprintf(f, "# Source: %s\n", h.source.c_str());
    std::fprintf(f, "# --> %s\n", p.c_str());
    std::fprintf(f, "#%14s %14s %14s\n", unit, "I", "sigma");
    for (size_t b = 0; b < pat.radial.size(); ++b)
      std::fprintf(f, "%14.8e %14.8e %14.8e\n", pat.radial[b], pat.intensity[b], pat.sigma[b]);
  }
  const bool bad = std::ferror(f) != 0;
  const int e = errno;
  if (std::fclose(f) != 0 || bad) {
    const int e2 = errno ? errno : e;
    std::error_code ec;
    fs::remove(p, ec);
    throw Error(p.string(), "", std::string("write failed: ") + std::strerror(e2));
  }
}

// The file sink: each pattern to its HDF5 row (frames in any order), or to the one CSV / text file; each failed frame
// named on stderr. Raises `stop` (the strategy stops between frames) on a write error (disk full), at the first
// failure with --stop-on-error, and when Ctrl-C / SIGTERM / SIGHUP raised `interrupted`. Calls are serialized by the
// strategy.
class FileSink : public strategies::FrameSink {
 public:
  FileSink(h5::NxWriter* writer, std::function<void(const integration::Pattern&)> write_text, bool stop_on_error,
           const std::atomic<bool>& interrupted, std::atomic<bool>& stop)
      : writer_(writer), write_text_(std::move(write_text)), stop_on_error_(stop_on_error),
        interrupted_(interrupted), stop_(stop) {}

  void pattern(size_t frame, const integration::Pattern& p) override {
    ++done;
    if (write_error.empty()) {
      try {
        if (writer_)
          writer_->write(frame, p);
        else
          write_text_(p);
      } catch (const std::exception& e) {
        write_error = e.what();  // disk full: stop reading, close, report
        stop_ = true;
      }
    }
    poll();
  }
  void error(size_t, const std::string& file, const std::string& reason) override {
    ++done;
    ++failed;
    std::fprintf(stderr, "xrdbench integrate: error: %s%s%s\n", file.c_str(), file.empty() ? "" : ": ", reason.c_str());
    if (stop_on_error_) stop_ = true;
    poll();
  }

  size_t done = 0, failed = 0;
  std::string write_error;

 private:
  void poll() {
    if (interrupted_.load()) stop_ = true;
  }
  h5::NxWriter* writer_;
  std::function<void(const integration::Pattern&)> write_text_;
  bool stop_on_error_;
  const std::atomic<bool>& interrupted_;
  std::atomic<bool>& stop_;
};

int cmd_integrate(int argc, char** argv) {
  std::string poni_path, mask_path, dark_path, flat_path, out_path, unit = "q_nm^-1", split = "bbox",
                                                                    engine = "fast", device = "auto";
  int bins = 1000, threads = 0;
  double polarization = 0, normalization = 1;
  std::vector<double> range;
  bool no_solid_angle = false, float64 = false, stop_on_error = false, quiet = false;
  std::vector<std::string> files;
  po::options_description visible("Options");
  visible.add_options()
      ("poni", po::value(&poni_path)->value_name("FILE"), "geometry: pyFAI PONI file (version 1, 2 or 2.1), required")
      ("mask", po::value(&mask_path)->value_name("FILE"),
       "mask, nonzero = masked: CBF, EDF, NumPy .npy, TIFF or HDF5 FILE.h5::/path/to/dataset")
      ("bins", po::value(&bins)->default_value(1000)->value_name("N"), "number of radial bins")
      ("unit", po::value(&unit)->default_value("q_nm^-1")->value_name("U"),
       "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm")
      ("split", po::value(&split)->default_value("bbox")->value_name("S"),
       "pixel splitting: no (histogram), bbox (bounding box), full (pixel corners)")
      ("range", po::value(&range)->multitoken()->value_name("MIN MAX"),
       "radial range in the unit (default: automatic, pyFAI's rule)")
      ("polarization", po::value(&polarization)->value_name("F"),
       "polarization factor in [-1, 1] (0: unpolarized, 0.99: synchrotron; default: no correction)")
      ("no-solid-angle", po::bool_switch(&no_solid_angle), "do not correct for the solid angle")
      ("dark", po::value(&dark_path)->value_name("FILE"),
       "dark current image, subtracted (same formats as --mask; integers or float32/float64, kept as float32)")
      ("flat", po::value(&flat_path)->value_name("FILE"),
       "flat field image, divided by (same formats; fractional values kept as float32; 0 or NaN masks the pixel)")
      ("normalization", po::value(&normalization)->default_value(1.0)->value_name("K"),
       "normalization factor (intensities are divided by it)")
      ("threads", po::value(&threads)->default_value(0)->value_name("T"), "threads (0: every core)")
      ("engine", po::value(&engine)->default_value("fast")->value_name("E[:V]"),
       "integration engine (`xrdbench strategies` lists them): reference (plain CSR, the definition of right), "
       "csr-parallel, fast (strips gathered; variants auto, gather, scalar), csc (pixel-major: per pixel its bins), "
       "opencl (on the OpenCL device); each frame decoded and integrated on one core, frames in parallel");
  add_device_option(visible, device,
                    "here auto is cpu unless --engine opencl; with an OpenCL device and a CPU engine left at its "
                    "default, compressed frames go to the device, which decodes and integrates them (batches of "
                    "16); with --engine opencl the frames are decoded on the CPU and integrated on the device");
  visible.add_options()
      ("float64", po::bool_switch(&float64), "HDF5: store intensity and sigma as float64 (default float32)")
      ("stop-on-error", po::bool_switch(&stop_on_error), "stop at the first frame that fails")
      ("quiet,q", po::bool_switch(&quiet), "no summary on stderr")
      ("out,o", po::value(&out_path)->value_name("OUT"),
       "output file (.h5/.hdf5/.nxs/.hdf, .csv, .xy/.dat), required");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files));
  po::positional_options_description pos;
  pos.add("file", -1);
  const Help help{
      "xrdbench integrate --poni FILE [options] --out OUT FILE...",
      "Azimuthal integration of CBF frames into 1D patterns, as pyFAI's integrate1d (0.21, 'ng' engines, Poisson\n"
      "errors), with a PONI geometry from pyFAI-calib2. Pixels with negative values (Pilatus gaps -1, bad pixels\n"
      "-2) are always masked, frame by frame; --mask adds a mask file (CBF, nonzero = masked).\n"
      "OUT ending in .h5/.hdf5/.nxs/.hdf: a NeXus file, /entry/integrate (NXdata) with intensity, sigma\n"
      "(= intensity_errors) and count (frames x bins), valid (per frame), radial (units in NeXus form, pyfai_unit)\n"
      "and source_files, and /entry/process (NXprocess: geometry, mask/dark/flat with MD5, every option).\n"
      "OUT ending in .csv: columns <unit>,intensity,sigma,count; in .xy or .dat: pyFAI's text format ('#' header\n"
      "with geometry and unit, then radial I sigma). CSV and text take one input file. Any other suffix is an\n"
      "error. A frame that fails (unreadable, wrong shape) is reported, its row left NaN with valid = 0, and the\n"
      "others go on; the exit status is then 1. Ctrl-C, SIGTERM or SIGHUP stop after the frames in flight: the\n"
      "HDF5 file is closed with the frames done marked valid, exit status 130.\n\n"
      "Exit status: 0 every frame integrated; 1 a frame failed, or bad input (files, geometry); 2 a usage error\n"
      "(bad option or value); 130 interrupted.",
      {"xrdbench integrate --poni lab6.poni --mask mask.cbf --unit 2th_deg --out lab6.csv lab6_0001.cbf",
       "xrdbench integrate --poni geometry.poni --engine csc --out scan.h5 scan/*.cbf",
       "xrdbench integrate --poni geometry.poni --device opencl --out scan.h5 scan/*.cbf"}};
  po::variables_map vm;
  if (!parse(argc, argv, help, visible, vm, hidden, pos)) return 0;
  if (poni_path.empty()) usage_error("--poni FILE is required");
  if (out_path.empty()) usage_error("--out OUT is required");
  if (files.empty()) usage_error("no input FILE given");
  const fs::path out(out_path);
  OutFormat format;
  try {
    format = out_format(out);
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  const bool hdf5 = format == OutFormat::hdf5;
  if (!hdf5 && files.size() != 1)
    usage_error(std::string(format == OutFormat::csv ? "CSV" : "text") + " output takes one input file (" +
                std::to_string(files.size()) + " given); write several frames to an .h5 file");
  if (!range.empty() && range.size() != 2) usage_error("--range takes two numbers: MIN MAX");
  bool device_engine = false;
  try {
    device_engine = strategies::check_engine_spec(engine).needs_device;
  } catch (const std::exception& e) {
    usage_error(std::string("--engine: ") + e.what());
  }
  if (threads < 0) usage_error("--threads must be 0 (every core) or more");
  // auto: an OpenCL device only when the engine asked for integrates on one.
  device = resolve_device(device, device_engine);
  ocl::DeviceSpec device_spec;
  try {
    device_spec = ocl::parse_device_spec(device);
  } catch (const std::exception& e) {
    usage_error(std::string("--device: ") + e.what());
  }
  if (device_engine && !device_spec.is_opencl())
    usage_error("--engine " + engine + " integrates on an OpenCL device: give --device opencl[:P[:D]] (or auto)");
  if (device_spec.is_opencl() && !device_engine && !vm["engine"].defaulted())
    usage_error("--engine " + engine + " runs on the CPU; with --device opencl the device decodes and " +
                "integrates (or --engine opencl: decoded on the CPU, integrated on the device)");
  std::unique_ptr<ocl::DeviceContext> ocl_ctx;
  if (device_spec.is_opencl()) ocl_ctx = std::make_unique<ocl::DeviceContext>(device_spec);

  integration::Options opt;
  try {
    opt.unit = integration::parse_unit(unit);
    opt.split = integration::parse_split(split);
  } catch (const std::invalid_argument& e) {
    usage_error(e.what());
  }
  opt.bins = bins;
  opt.solid_angle = !no_solid_angle;
  opt.normalization = normalization;
  if (vm.count("polarization")) opt.polarization = polarization;
  if (range.size() == 2) opt.radial_min = range[0], opt.radial_max = range[1];

  const auto t0 = std::chrono::steady_clock::now();
  const integration::Geometry geometry = poni::read(poni_path);
  std::vector<std::filesystem::path> paths(files.begin(), files.end());
  const frames::CbfFileSource source(paths);
  // The frames' shape comes from the first file (every frame must have it: the strategies check).
  frames::EncodedFrame first;
  source.load(0, first);
  const size_t width = first.width, height = first.height;
  std::vector<uint8_t> mask;
  if (!mask_path.empty()) mask = mask::read(mask_path, width, height);
  std::vector<float> dark, flat;
  if (!dark_path.empty()) dark = image_io::read_float(dark_path, width, height, "the dark image");
  if (!flat_path.empty()) flat = image_io::read_float(flat_path, width, height, "the flat image");
  integration::Setup setup;
  tbb::task_arena(threads > 0 ? threads : tbb::task_arena::automatic).execute([&] {
    try {
      setup = integration::build_setup(geometry, mask, width, height, opt, dark, flat, threads);
    } catch (const std::invalid_argument& e) {
      throw Error(poni_path, "", std::string("cannot build the integration matrix: ") + e.what());
    }
  });
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The strategy: the device decodes and integrates (opencl-batched), or the oneTBB pipeline with the engine.
  const bool on_device = ocl_ctx && !device_engine;
  const std::string strategy_name = on_device ? "opencl-batched" : "pipeline";
  std::atomic<bool> stop{false};
  StageProfiler profiler;
  strategies::RunContext ctx;
  ctx.source = &source;
  ctx.codec = first.codec;
  ctx.setup = &setup;
  ctx.device = ocl_ctx.get();
  ctx.profiler = &profiler;
  ctx.stop = &stop;
  ctx.opt.threads = threads;
  if (on_device) {
    ctx.opt.batch = strategies::kDefaultDeviceBatch;
    ctx.opt.readers = threads;  // 0: every core but two
  } else {
    ctx.opt.engine = engine;
  }
  auto strategy = strategies::find_strategy(strategy_name).make();
  const auto tp = std::chrono::steady_clock::now();
  strategy->prepare(ctx);  // the engine's layout, or the device's buffers and matrix
  const double prepare_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - tp).count();
  const strategies::Kernels& used = strategy->kernels();
  const std::string engine_used =
      used.engine + (used.engine_variant.empty() ? "" : " (" + used.engine_variant + ")");

  // Ctrl-C / SIGTERM / SIGHUP from here on: stop reading new frames; the frames in flight finish and are written,
  // the file is closed (installed before the file exists, so it is never left half-made by a signal).
  const std::atomic<bool>& interrupted = harness::install_interrupt_handler();
  std::unique_ptr<h5::NxWriter> writer;
  if (hdf5) {
    h5::NxLayout layout;
    layout.frames = files.size();
    layout.float64 = float64;
    layout.radial_unit = integration::to_string(opt.unit);
    layout.radial = setup.csr.radial;
    layout.source_files = files;
    layout.program = "xrdbench " XRD_VERSION " integrate";
    h5::ReductionInputs in;
    in.program = "xrdbench integrate";
    in.poni = poni_path;
    in.mask = mask_path;
    in.dark = dark_path;
    in.flat = flat_path;
    in.options = opt;
    in.engine = engine_used;
    layout.process = h5::describe_reduction(in);
    writer = std::make_unique<h5::NxWriter>(out, layout);
  }
  const TextHeader text_header{geometry, opt, poni_path, mask_path, dark_path, flat_path, files.front()};
  FileSink sink(
      writer.get(),
      [&](const integration::Pattern& p) { write_text(out, p, format == OutFormat::csv, text_header); },
      stop_on_error, interrupted, stop);
  ctx.sink = &sink;

  const auto t1 = std::chrono::steady_clock::now();
  std::string run_error;
  try {
    strategy->run(ctx);
  } catch (const std::exception& e) {
    run_error = e.what();  // the strategy itself failed (device lost): the frames done are kept, as on Ctrl-C
  }
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::string write_error = sink.write_error;
  if (writer) {
    try {
      writer->close();
    } catch (const std::exception& e) {
      if (write_error.empty()) write_error = e.what();
    }
    writer.reset();
  }
  if (!write_error.empty()) {
    // An HDF5 file whose writes failed is not a result: removed, so that nothing takes it for one.
    std::error_code ec;
    const bool removed = hdf5 && fs::remove(out, ec);
    std::fprintf(stderr, "xrdbench integrate: error: %s%s\n", write_error.c_str(),
                 removed ? " (the incomplete file was removed)" : "");
    return 1;
  }
  if (!run_error.empty()) {
    std::fprintf(stderr, "xrdbench integrate: error: %s (after %zu of %zu frames)\n", run_error.c_str(), sink.done,
                 files.size());
    return 1;
  }
  const size_t done = sink.done, failed = sink.failed;
  if (interrupted.load()) {
    std::fprintf(stderr, "xrdbench integrate: interrupted after %zu of %zu frames; %s keeps them (valid = 1)\n",
                 done - failed, files.size(), out.c_str());
    return 130;
  }
  if (!quiet) {
    const int workers = on_device ? (threads > 0 ? threads : strategies::default_readers())
                                  : strategies::worker_threads(threads);
    const size_t ok = done - failed;
    std::fprintf(
        stderr,
        "integrate: %zu frame%s -> %s (%zu failed); %d bins %s, %s split, %s engine, decoder %s, %s strategy, "
        "%d %s%s\n"
        "  setup %.3f s (geometry %.3f s, matrix %.3f s, %zu entries, %zu pixels masked), engine prepared in %.3f s\n"
        "  %.2f frames/s overall; integration alone %.3f ms/frame (mean time in the engine)\n",
        ok, ok == 1 ? "" : "s", out.c_str(), failed, bins, integration::to_string(opt.unit),
        integration::to_string(opt.split), engine_used.c_str(), used.decoder.c_str(), strategy_name.c_str(), workers,
        on_device ? "reader" : "thread", workers == 1 ? "" : "s", setup_s, setup.geometry_seconds,
        setup.matrix_seconds, setup.csr.nnz(), setup.masked_pixels, prepare_s,
        run_s > 0 ? static_cast<double>(done) / run_s : 0.0,
        ok ? 1e3 * profiler.total_seconds(Stage::integrate) / static_cast<double>(ok) : 0.0);
  }
  return failed ? 1 : 0;
}

CommandRegistrar reg("integrate", "azimuthal integration of CBF frames (PONI geometry) to CSV or NeXus/HDF5",
                     cmd_integrate);

}  // namespace
}  // namespace xrd::cli
