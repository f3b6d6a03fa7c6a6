// `xrdbench integrate`: azimuthal integration of CBF frames with a pyFAI PONI geometry, to CSV (one frame) or
// NeXus/HDF5 (frames x bins). A oneTBB pipeline: read (in order) -> decode + integrate (parallel) -> write
// (in order).
#include <tbb/parallel_pipeline.h>
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
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/image_io.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "harness/cli.hpp"
#include "harness/h5_process.hpp"
#include "harness/h5_writer.hpp"
#include "harness/runner.hpp"
#include "base/error.hpp"
#include "kernels/integrate.hpp"
#include "kernels/integrate_fast.hpp"
#include "kernels/ocl_device.hpp"
#include "kernels/ocl_engine.hpp"

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

struct InFlightFrame {
  size_t index = 0;
  std::vector<uint8_t> bytes;
  std::vector<int32_t> image;
  integration::Pattern pattern;
  integration::FastIntegrator::Workspace ws;
  std::string error;
};

int cmd_integrate(int argc, char** argv) {
  std::string poni_path, mask_path, dark_path, flat_path, out_path, unit = "q_nm^-1", split = "bbox",
                                                                    engine = "fast", device = "cpu";
  int bins = 1000, threads = 0;
  double polarization = 0, normalization = 1;
  std::vector<double> range;
  bool no_solid_angle = false, float64 = false, stop_on_error = false, quiet = false;
  std::vector<std::string> files;
  po::options_description desc(
      "Usage: xrdbench integrate --poni FILE [options] --out OUT FILE...\n\n"
      "Azimuthal integration of CBF frames into 1D patterns, as pyFAI's integrate1d (0.21, 'ng' engines, "
      "Poisson\n"
      "errors), with a PONI geometry from pyFAI-calib2. Pixels with negative values (Pilatus gaps -1, bad "
      "pixels\n"
      "-2) are always masked, frame by frame; --mask adds a mask file (CBF, nonzero = masked).\n"
      "OUT ending in .h5/.hdf5/.nxs/.hdf: a NeXus file, /entry/integrate (NXdata) with intensity, sigma\n"
      "(= intensity_errors) and count (frames x bins), valid (per frame), radial (units in NeXus form, pyfai_unit)\n"
      "and source_files, and /entry/process (NXprocess: geometry, mask/dark/flat with MD5, every option).\n"
      "OUT ending in .csv: columns <unit>,intensity,sigma,count; in .xy or .dat: pyFAI's text format ('#' header\n"
      "with geometry and unit, then radial I sigma). CSV and text take one input file. Any other suffix is an\n"
      "error. A frame that fails (unreadable, wrong shape) is reported, its row left NaN with valid = 0, and the\n"
      "others go on; the exit status is then 1. Ctrl-C, SIGTERM or SIGHUP stop after the frames in flight: the\n"
      "HDF5 file is closed with the frames done marked valid, exit status 130.\n\n"
      "Example:\n"
      "  xrdbench integrate --poni lab6.poni --mask mask.cbf --unit 2th_deg --out lab6.csv lab6_0001.cbf\n"
      "  xrdbench integrate --poni geometry.poni --out scan.h5 scan/*.cbf\n\nOptions");
  desc.add_options()("help,h", "show this help")("poni", po::value(&poni_path)->value_name("FILE"),
                                                 "geometry: pyFAI PONI file (version 1, 2 or 2.1), required")(
      "mask", po::value(&mask_path)->value_name("FILE"), "mask, nonzero = masked: CBF, EDF, NumPy .npy, TIFF or HDF5 FILE.h5::/path/to/dataset")(
      "bins", po::value(&bins)->default_value(1000)->value_name("N"), "number of radial bins")(
      "unit", po::value(&unit)->default_value("q_nm^-1")->value_name("U"),
      "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm")(
      "split", po::value(&split)->default_value("bbox")->value_name("S"),
      "pixel splitting: no (histogram), bbox (bounding box), full (pixel corners)")(
      "range", po::value(&range)->multitoken()->value_name("MIN MAX"),
      "radial range in the unit (default: automatic, pyFAI's rule)")(
      "polarization", po::value(&polarization)->value_name("F"),
      "polarization factor in [-1, 1] (0: unpolarized, 0.99: synchrotron; default: no correction)")(
      "no-solid-angle", po::bool_switch(&no_solid_angle), "do not correct for the solid angle")(
      "dark", po::value(&dark_path)->value_name("FILE"), "dark current image, subtracted (same formats as --mask; integers or float32/float64, kept as float32)")(
      "flat", po::value(&flat_path)->value_name("FILE"), "flat field image, divided by (same formats; fractional values kept as float32; 0 or NaN masks the pixel)")(
      "normalization", po::value(&normalization)->default_value(1.0)->value_name("K"),
      "normalization factor (intensities are divided by it)")(
      "threads", po::value(&threads)->default_value(0)->value_name("T"), "threads (0: every core)")(
      "engine", po::value(&engine)->default_value("fast")->value_name("E"),
      "fast (strips of pixels gathered bin by bin, parallel) or reference (plain CSR, one thread per frame)")(
      "device", po::value(&device)->default_value("cpu")->value_name("D"),
      "cpu, or opencl[:PLATFORM[:DEVICE]]: compressed frames go to the device, which decodes and integrates "
      "them (batches of 16; see `xrdbench devices`)")(
      "float64", po::bool_switch(&float64), "HDF5: store intensity and sigma as float64 (default float32)")(
      "stop-on-error", po::bool_switch(&stop_on_error), "stop at the first frame that fails")(
      "quiet,q", po::bool_switch(&quiet), "no summary on stderr")(
      "out,o", po::value(&out_path)->value_name("OUT"), "output file (.h5/.hdf5/.nxs/.hdf, .csv, .xy/.dat), required");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files));
  po::options_description every;
  every.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  auto usage_error = [](const std::string& msg) {
    std::fprintf(stderr, "xrdbench integrate: %s\n(xrdbench integrate --help for usage)\n", msg.c_str());
    return 2;
  };
  try {
    po::store(po::command_line_parser(argc, argv).options(every).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::printf("%s\n", (std::ostringstream() << desc).str().c_str());
    return 0;
  }
  if (poni_path.empty()) return usage_error("--poni FILE is required");
  if (out_path.empty()) return usage_error("--out OUT is required");
  if (files.empty()) return usage_error("no input FILE given");
  const fs::path out(out_path);
  OutFormat format;
  try {
    format = out_format(out);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  const bool hdf5 = format == OutFormat::hdf5;
  if (!hdf5 && files.size() != 1)
    return usage_error(std::string(format == OutFormat::csv ? "CSV" : "text") + " output takes one input file (" +
                       std::to_string(files.size()) + " given); write several frames to an .h5 file");
  if (!range.empty() && range.size() != 2) return usage_error("--range takes two numbers: MIN MAX");
  if (engine != "fast" && engine != "reference") return usage_error("--engine must be fast or reference");
  if (threads < 0) return usage_error("--threads must be 0 (every core) or more");
  const ocl::DeviceSpec device_spec = ocl::parse_device_spec(device);
  std::unique_ptr<ocl::DeviceContext> ocl_ctx;
  if (device_spec.is_opencl()) {
    ocl_ctx = std::make_unique<ocl::DeviceContext>(device_spec);
    engine = "opencl (" + ocl_ctx->name() + ")";
  }

  integration::Options opt;
  try {
    opt.unit = integration::parse_unit(unit);
    opt.split = integration::parse_split(split);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  opt.bins = bins;
  opt.solid_angle = !no_solid_angle;
  opt.normalization = normalization;
  if (vm.count("polarization")) opt.polarization = polarization;
  if (range.size() == 2) opt.radial_min = range[0], opt.radial_max = range[1];

  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  const auto t0 = std::chrono::steady_clock::now();
  const integration::Geometry geometry = poni::read(poni_path);
  // The frames' shape comes from the first file (every frame must have it).
  std::vector<uint8_t> first_bytes;
  cbf::read_file(files.front(), first_bytes);
  const cbf::CbfView first = cbf::parse(first_bytes, files.front());
  const size_t width = first.binary.width, height = first.binary.height;
  std::vector<uint8_t> mask;
  if (!mask_path.empty()) mask = mask::read(mask_path, width, height);
  std::vector<float> dark, flat;
  if (!dark_path.empty()) dark = image_io::read_float(dark_path, width, height, "the dark image");
  if (!flat_path.empty()) flat = image_io::read_float(flat_path, width, height, "the flat image");
  integration::Setup setup;
  std::unique_ptr<integration::FastIntegrator> fast;
  arena.execute([&] {
    try {
      setup = integration::build_setup(geometry, mask, width, height, opt, dark, flat, threads);
    } catch (const std::invalid_argument& e) {
      throw Error(poni_path, "", std::string("cannot build the integration matrix: ") + e.what());
    }
    if (engine == "fast" && !ocl_ctx) fast = std::make_unique<integration::FastIntegrator>(setup, threads);
  });
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

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
    in.engine = engine;
    layout.process = h5::describe_reduction(in);
    writer = std::make_unique<h5::NxWriter>(out, layout);
  }
  TextHeader text_header{geometry, opt, poni_path, mask_path, dark_path, flat_path, files.front()};
  auto write_one = [&](const integration::Pattern& p) { write_text(out, p, format == OutFormat::csv, text_header); };


  // The pipeline. Tokens: enough frames in flight to keep every thread busy, bounded memory.
  const int workers = arena.max_concurrency();
  const size_t tokens = static_cast<size_t>(std::max(2, 2 * workers));
  std::vector<std::unique_ptr<InFlightFrame>> pool;
  std::vector<InFlightFrame*> free_frames;
  for (size_t i = 0; i < tokens; ++i)
    pool.push_back(std::make_unique<InFlightFrame>()), free_frames.push_back(pool.back().get());
  std::mutex free_mutex;
  size_t next = 0, failed = 0, done = 0;
  bool stop = false;
  std::string write_error;
  double integrate_s = 0;
  std::mutex time_mutex;
  const auto t1 = std::chrono::steady_clock::now();
  // On an OpenCL device: read and parse here, the device decodes and integrates batches while the next is read.
  auto run_on_device = [&] {
    size_t max_bytes = 0;
    for (auto& f : files) {
      std::error_code ec;
      max_bytes = std::max<size_t>(max_bytes, fs::file_size(f, ec) * !ec);
    }
    ocl::Engine eng(*ocl_ctx, setup, std::max<size_t>(max_bytes, 1), 16);
    ocl::BatchResult res;
    std::vector<uint8_t> buf;
    auto fail = [&](const std::string& what) {
      ++failed;
      ++done;
      std::fprintf(stderr, "xrdbench integrate: error: %s\n", what.c_str());
      if (stop_on_error) stop = true;
    };
    auto take = [&] {
      eng.complete(res);
      integrate_s += 1e-3 * res.compute_ms;
      for (size_t k = 0; k < res.size(); ++k) {
        const auto& fr = res.frames[k];
        if (fr.error) {
          fail(fr.error->what());
          continue;
        }
        if (!write_error.empty()) break;
        try {
          if (writer) writer->write(fr.tag, fr.pattern);
          else write_one(fr.pattern);
        } catch (const std::exception& e) {
          write_error = e.what();
          stop = true;
        }
        ++done;
      }
    };
    for (size_t next = 0; next < files.size() && !stop && !interrupted.load();) {
      ocl::Staging& s = eng.staging();
      for (; s.size() < s.capacity() && next < files.size() && !stop && !interrupted.load(); ++next) {
        try {
          cbf::read_file(files[next], buf);
          const cbf::CbfView v = cbf::parse(buf, files[next]);
          if (v.binary.width != width || v.binary.height != height)
            throw Error(files[next], "",
                        "frame is " + std::to_string(v.binary.width) + " x " + std::to_string(v.binary.height) +
                            " pixels, the first frame " + std::to_string(width) + " x " + std::to_string(height));
          s.add(v.payload, v.binary.n_elements, v.binary.element_type, files[next], next);
        } catch (const std::exception& e) {
          fail(e.what());
        }
      }
      eng.submit(s);
      if (eng.in_flight() == eng.depth()) take();
    }
    while (eng.in_flight()) take();
  };
  if (ocl_ctx) run_on_device();
  else arena.execute([&] {
    tbb::parallel_pipeline(
        tokens,
        tbb::make_filter<void,
                         InFlightFrame*>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> InFlightFrame* {
          if (next >= files.size() || stop || interrupted.load()) {
            fc.stop();
            return nullptr;
          }
          InFlightFrame* f;
          {
            std::lock_guard lk(free_mutex);
            f = free_frames.back();
            free_frames.pop_back();
          }
          f->index = next++;
          f->error.clear();
          try {
            cbf::read_file(files[f->index], f->bytes);
          } catch (const std::exception& e) {
            f->error = e.what();
          }
          return f;
        }) & tbb::make_filter<InFlightFrame*, InFlightFrame*>(tbb::filter_mode::parallel, [&](InFlightFrame* f) -> InFlightFrame* {
          if (!f->error.empty()) return f;
          try {
            const cbf::CbfView v = cbf::parse(f->bytes, files[f->index]);
            if (v.binary.width != width || v.binary.height != height)
              throw Error(files[f->index], "",
                          "frame is " + std::to_string(v.binary.width) + " x " +
                              std::to_string(v.binary.height) + " pixels, the first frame " +
                              std::to_string(width) + " x " + std::to_string(height));
            f->image.resize(width * height);
            cbf::decode(v, f->image);
            const auto ti = std::chrono::steady_clock::now();
            if (fast)
              fast->integrate(f->image, f->pattern, f->ws);
            else
              integration::integrate(setup, f->image, f->pattern);
            const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - ti).count();
            std::lock_guard lk(time_mutex);
            integrate_s += dt;
          } catch (const std::exception& e) {
            f->error = e.what();
          }
          return f;
        }) & tbb::make_filter<InFlightFrame*, void>(tbb::filter_mode::serial_in_order, [&](InFlightFrame* f) {
          if (!f->error.empty()) {
            ++failed;
            std::fprintf(stderr, "xrdbench integrate: error: %s\n", f->error.c_str());
            if (stop_on_error) stop = true;
          } else if (write_error.empty()) {
            try {
              if (writer) writer->write(f->index, f->pattern);
              else write_one(f->pattern);
            } catch (const std::exception& e) {
              write_error = e.what();  // disk full: stop reading, close, report (never an exception through TBB)
              stop = true;
            }
          }
          ++done;
          std::lock_guard lk(free_mutex);
          free_frames.push_back(f);
        }));
  });
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
  if (interrupted.load()) {
    std::fprintf(stderr, "xrdbench integrate: interrupted after %zu of %zu frames; %s keeps them (valid = 1)\n",
                 done - failed, files.size(), out.c_str());
    return 130;
  }
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  if (!quiet) {
    std::fprintf(
        stderr,
        "integrate: %zu frame%s -> %s (%zu failed); %d bins %s, %s split, %s engine, %d thread%s\n"
        "  setup %.3f s (geometry %.3f s, matrix %.3f s, %zu entries, %zu pixels masked%s)\n"
        "  %.2f frames/s overall; integration alone %.3f ms/frame (mean time in the engine)\n",
        done - failed, done - failed == 1 ? "" : "s", out.c_str(), failed, bins, integration::to_string(opt.unit),
        integration::to_string(opt.split), engine.c_str(), workers, workers == 1 ? "" : "s", setup_s,
        setup.geometry_seconds, setup.matrix_seconds, setup.csr.nnz(), setup.masked_pixels,
        fast ? (", layout " + std::to_string(fast->build_seconds()).substr(0, 5) + " s").c_str() : "",
        run_s > 0 ? static_cast<double>(done) / run_s : 0.0,
        done - failed ? 1e3 * integrate_s / static_cast<double>(done - failed) : 0.0);
  }
  return failed ? 1 : 0;
}

CommandRegistrar reg("integrate", "azimuthal integration of CBF frames (PONI geometry) to CSV or NeXus/HDF5",
                     cmd_integrate);

}  // namespace
}  // namespace xrd::cli
