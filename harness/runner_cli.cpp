#include "harness/runner_cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "harness/cache.hpp"
#include "harness/cli.hpp"
#include "harness/environment.hpp"
#include "harness/h2d_bound.hpp"
#include "kernels/byte_offset.hpp"
#include "strategies/engines.hpp"
#include "base/error.hpp"

namespace po = boost::program_options;

namespace xrd::harness {

void add_bench_options(po::options_description& visible, po::options_description& hidden, BenchArgs& a,
                       const std::string& default_out) {
  a.out = default_out;
  visible.add_options()
      ("dataset", po::value(&a.dataset)->required(), "folder of CBF frames or of NXmx HDF5 files (bitshuffle-LZ4), or an NXmx master file (from `xrdbench dataset synth [--format h5]`, or real)")
      ("poni", po::value(&a.poni), "geometry (default: DATASET/geometry.poni; required for a plain folder)")
      ("mask", po::value(&a.mask), "mask, nonzero = masked: CBF, EDF, .npy, TIFF or FILE.h5::/dataset (default: DATASET/mask.cbf when present)")
      ("dark", po::value(&a.dark), "dark current image, subtracted (formats as --mask; float32/float64 kept as float32)")
      ("flat", po::value(&a.flat), "flat field image, divided by (formats as --mask; 0 or NaN masks the pixel)")
      ("bins", po::value(&a.bins)->default_value(1000), "radial bins (1 to 1000000)")
      ("unit", po::value(&a.unit)->default_value("q_nm^-1"), "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm")
      ("split", po::value(&a.split)->default_value("bbox"), "pixel splitting: no, bbox, full")
      ("frames", po::value(&a.frames)->default_value(0), "use only the first N frames (0 = all)")
      ("decoder", po::value(&a.decoder)->default_value("auto"),
       "CPU byte-offset kernel of every row: auto (the best this CPU runs), avx512vbmi2, avx512vnni, avx512, avx2, scalar "
       "(recorded as machine.simd in results.json; the reference stays the scalar decoder)")
      ("threads", po::value(&a.threads)->default_value(0), "worker threads of the parallel strategies (0 = all cores)")
      ("repeats", po::value(&a.repeats)->default_value(5), "timed runs per row (median and MAD over them)")
      ("warmup", po::value(&a.warmup)->default_value(1), "untimed runs before them")
      ("verify-md5", po::bool_switch(&a.verify_md5), "check every frame's Content-MD5 (a mismatch fails the frame)")
      ("read-method", po::value(&a.read_method)->default_value("auto"),
       "how our rows (pipeline, fused, opencl-batched) read frame files: auto (the best measured for hot / cold "
       "rows), pread, mmap (map + copy), direct (O_DIRECT; tmpfs: pread), uring (io_uring, several requests in "
       "flight); the paper's rows always pread")
      ("read-ahead", po::value(&a.read_ahead)->default_value("auto"),
       "pipeline and fused: N reader threads read the frames in order ahead of the workers into a bounded ring "
       "(0 = none: each worker reads its own frames); auto: 0 for hot rows, 4 for cold rows (2 on one core); the "
       "other rows ignore it")
      ("no-write", po::bool_switch(&a.no_write), "do not write the patterns to HDF5 (OUT/patterns/ROW.h5)")
      ("drop-caches", po::bool_switch(&a.drop_caches),
       "cold rows: also write 3 to /proc/sys/vm/drop_caches (needs root)")
      ("out", po::value(&a.out)->default_value(default_out), "output folder: results.json, patterns/, ...")
      ("trace", po::value(&a.trace), "write the stage events of each row's last run to FILE (Chrome trace JSON)")
      ("quiet", po::bool_switch(&a.quiet), "no per-row lines on stderr")
      ("scan-shape", po::value(&a.scan_shape)->value_name("R,T"),
       "the frames are an XRD-CT scan of R rotations x T translations, rotation-major: the HDF5 signal is then\n"
       "R x T x bins (default: the dataset manifest's scan, else frames x bins)")
      ("scan-rotation", po::value(&a.scan_rotation)->value_name("FIRST,LAST"),
       "with --scan-shape: rotation angles in degrees, evenly spaced from FIRST to LAST (default: indices)")
      ("scan-translation", po::value(&a.scan_translation)->value_name("FIRST,LAST"),
       "with --scan-shape: translation positions in mm, evenly spaced from FIRST to LAST (default: indices)")
      ("mpi-timeout", po::value(&a.mpi_timeout)->default_value(600),
       "under mpirun: seconds a rank waits for the others at a barrier before aborting the job (0 = no limit)");
  cli::add_device_option(visible, a.device,
                         "the device of the GPU rows; opencl:local-rank (under mpirun, rank i of a host takes GPU i "
                         "mod GPUs); opencl:all (opencl-batched spreads its batches over every GPU of the host; other "
                         "rows use the first)");
  hidden.add_options()
      ("skip-eviction", po::bool_switch(&a.skip_eviction), "tests: cold rows without evicting");
}

void add_row_options(po::options_description& visible, RowArgs& r) {
  visible.add_options()
      ("strategy", po::value(&r.strategy)->default_value("sequential"), "strategy (`xrdbench strategies` lists them)")
      ("readers", po::value(&r.readers)->default_value(0),
       "reader threads (pool, opencl-batched; 0 = the default: pool 2, opencl-batched every core but two; at most "
       "4096)")
      ("integrator", po::value(&r.integrator)->default_value("cpu"),
       "where host-decoded frames are integrated: cpu|gpu")
      ("cache", po::value(&r.cache)->default_value("hot"),
       "hot (files in the page cache) | cold (evicted before each run)")
      ("batch", po::value(&r.batch)->default_value(0),
       ("frames per device launch (opencl-batched; 0 = " + std::to_string(strategies::kDefaultDeviceBatch) +
        "), frames decoded side by side per token (fused; 0 = 2)")
           .c_str());
}

void add_engine_option(po::options_description& visible, std::string& engine, const std::string& extra) {
  visible.add_options()("engine", po::value(&engine)->value_name("E[:V]"),
                        ("integration engine of the rows that integrate on the CPU (`xrdbench strategies` lists "
                         "them): reference, csr-parallel, fast (variants auto, gather, scalar), csc; opencl with "
                         "--integrator gpu (its default there); default: fast (results.json records the engine and "
                         "variant used)" +
                         (extra.empty() ? std::string() : "; " + extra))
                            .c_str());
}

std::string engine_id_suffix(const std::string& engine) {
  std::string s = engine;
  std::replace(s.begin(), s.end(), ':', '-');
  return s;
}

void add_csv_option(po::options_description& visible, std::string& csv) {
  visible.add_options()("csv", po::value(&csv)->value_name("FILE"),
                        "also write every row of OUT/results.json as CSV to FILE, rewritten after each row: the same "
                        "bytes as `xrdbench report OUT/results.json --export-csv FILE` (fps, validity, noise, load, "
                        "stage times, the paper's figures)");
}

bool engine_applies(const RowSpec& spec) {
  return !strategies::find_strategy(spec.strategy).needs_device && spec.opt.integrator == strategies::Integrator::cpu;
}

void apply_engine(RowSpec& spec, const std::string& engine) {
  if (engine.empty()) return;
  bool device_engine = false;
  try {
    device_engine = strategies::check_engine_spec(engine).needs_device;
  } catch (const std::exception& e) {
    cli::usage_error(std::string("--engine: ") + e.what());
  }
  if (strategies::find_strategy(spec.strategy).needs_device)
    cli::usage_error("--engine " + engine + ": strategy " + spec.strategy +
                     " decodes and integrates on its OpenCL device; --engine chooses the engine of the strategies "
                     "that decode on the host (sequential, pool, pipeline, fused)");
  const bool gpu = spec.opt.integrator == strategies::Integrator::gpu;
  if (gpu && !device_engine)
    cli::usage_error("--engine " + engine + " integrates on the CPU; --integrator gpu integrates with opencl: give "
                     "--integrator cpu (the default)");
  if (!gpu && device_engine)
    cli::usage_error("--engine " + engine + " integrates on the OpenCL device: give --integrator gpu");
  spec.opt.engine = engine;
}

io::ReadMethod row_read_method(const std::string& arg, const std::string& strategy, CacheMode cache) {
  // What measured best (reports/results/h200/readers/NOTES.md): hot, every method copies out of the page cache at
  // the same cost and pread has the fewest system calls; cold, see kDefaultColdRead.
  constexpr io::ReadMethod kDefaultHotRead = io::ReadMethod::pread;
  constexpr io::ReadMethod kDefaultColdRead = io::ReadMethod::pread;
  const io::ReadMethod asked = arg == "auto" ? (cache == CacheMode::cold ? kDefaultColdRead : kDefaultHotRead)
                                             : io::parse_read_method(arg, "--read-method");
  if (strategy == "sequential" || strategy == "pool" || strategy == "opencl") return io::ReadMethod::pread;
  return asked;
}

int default_read_ahead(CacheMode cache, unsigned cores) {
  if (cache != CacheMode::cold) return 0;
  return cores >= 2 ? 4 : 2;
}

int row_read_ahead(const std::string& arg, const std::string& strategy, CacheMode cache) {
  int n = 0;
  if (arg == "auto") {
    n = default_read_ahead(cache, std::max(1u, std::thread::hardware_concurrency()));
  } else {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(arg.c_str(), &end, 10);
    if (arg.empty() || *end || errno || v < 0 || v > 64)
      cli::usage_error("--read-ahead: expected auto or a count of reader threads 0 to 64, not '" + arg + "'");
    n = static_cast<int>(v);
  }
  return strategy == "pipeline" || strategy == "fused" ? n : 0;
}

RowSpec make_row_spec(const RowArgs& r, const BenchArgs& a) {
  if (r.readers < 0 || r.readers > 4096)
    cli::usage_error("--readers: must be 0 (the strategy's default) to 4096, not " + std::to_string(r.readers));
  if (r.batch < 0) cli::usage_error("--batch: must be 0 (the default) or more, not " + std::to_string(r.batch));
  RowSpec spec;
  const auto& info = strategies::find_strategy(r.strategy);
  spec.strategy = info.name;
  spec.cache = parse_cache_mode(r.cache);
  spec.opt.integrator = strategies::parse_integrator(r.integrator);
  // opencl-batched's readers fill pinned memory, its end-to-end limit: by default every core but two (cold: the disk
  // is the limit, strategies::kColdDeviceReaders); pool: 2.
  const int default_readers = info.name != "opencl-batched" ? 2
                              : spec.cache == CacheMode::cold ? strategies::kColdDeviceReaders
                                                              : strategies::default_readers();
  spec.opt.readers = info.uses_readers && r.readers < 1 ? default_readers : r.readers;
  spec.opt.batch = r.batch;
  spec.opt.threads = a.threads;
  spec.opt.verify_md5 = a.verify_md5;
  spec.opt.read_method = row_read_method(a.read_method, spec.strategy, spec.cache);
  spec.opt.read_ahead = row_read_ahead(a.read_ahead, spec.strategy, spec.cache);
  return spec;
}

bool measure_h2d_or_warn(H2dBound& h2d, Bench& b) {
  try {
    measure_h2d(h2d, *b.device, b.ds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: the host-to-device bound was not measured: %s\n", e.what());
    return false;
  }
  return true;
}

SameRunBus::SameRunBus(Bench& b, bool want_device, int ranks) : b_(b) {
  ok_ = want_device && b.device && ranks == 1 && measure_h2d_or_warn(h2d_, b);
}

void SameRunBus::fill(ResultsFile& f) const {
  if (!h2d_.pinned_GBps.empty()) f.h2d_bound = h2d_.to_json();
}

std::vector<std::string> SameRunBus::after(const std::vector<ResultRow>& done, bool interrupted) {
  std::vector<std::string> lines;
  if (!ok_ || interrupted || !measure_h2d_or_warn(h2d_, b_)) return lines;
  lines.push_back(h2d_.line());
  for (std::string& l : h2d_.row_lines(done)) lines.push_back(std::move(l));
  return lines;
}

bool parse_args(int argc, char** argv, const po::options_description& visible, const po::options_description& hidden,
                const cli::Help& help, int& status) {
  po::variables_map vm;
  status = 0;
  return cli::parse(argc, argv, help, visible, vm, hidden);
}

namespace {

// "A,B" -> {A, B}; throws xrd::Error naming the option.
std::pair<double, double> two_numbers(const std::string& text, const char* option, bool integers) {
  const auto comma = text.find(',');
  try {
    if (comma != std::string::npos) {
      size_t u1 = 0, u2 = 0;
      const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
      const double x = std::stod(a, &u1), y = std::stod(b, &u2);
      if (u1 == a.size() && u2 == b.size() && (!integers || (x == static_cast<long>(x) && y == static_cast<long>(y) &&
                                                             x >= 1 && y >= 1)))
        return {x, y};
    }
  } catch (const std::exception&) {
  }
  throw Error("", option,
              "'" + text + "': expected " + (integers ? "two positive integers R,T" : "two numbers FIRST,LAST"));
}

std::vector<double> spaced(double first, double last, size_t n) {
  std::vector<double> v(n, first);
  for (size_t i = 1; i < n; ++i) v[i] = first + (last - first) * static_cast<double>(i) / static_cast<double>(n - 1);
  return v;
}

// --scan-shape and its axis values.
h5::ScanLayout scan_option(const BenchArgs& a) {
  h5::ScanLayout s;
  if (a.scan_shape.empty()) {
    if (!a.scan_rotation.empty() || !a.scan_translation.empty())
      throw Error("", "--scan-rotation/--scan-translation", "need --scan-shape R,T");
    return s;
  }
  const auto [r, t] = two_numbers(a.scan_shape, "--scan-shape", true);
  s.rotations = static_cast<size_t>(r);
  s.translations = static_cast<size_t>(t);
  if (!a.scan_rotation.empty()) {
    const auto [x, y] = two_numbers(a.scan_rotation, "--scan-rotation", false);
    s.rotation = spaced(x, y, s.rotations);
  }
  if (!a.scan_translation.empty()) {
    const auto [x, y] = two_numbers(a.scan_translation, "--scan-translation", false);
    s.translation = spaced(x, y, s.translations);
  }
  s.rotation_units = "deg";
  s.translation_units = "mm";
  return s;
}

}  // namespace

RunnerOptions Bench::runner_options() const {
  RunnerOptions o;
  o.repeats = args.repeats;
  o.warmup = args.warmup;
  o.write = !args.no_write;
  o.out_dir = out_dir;
  o.drop_caches = args.drop_caches;
  o.skip_eviction = args.skip_eviction;
  o.trace = !args.trace.empty();
  o.quiet = args.quiet;
  o.no_device_reason = no_device_reason;
  o.scan = scan;
  o.mpi_timeout_s = args.mpi_timeout;
  for (auto& d : extra_devices) o.extra_devices.push_back(d.get());
  return o;
}

ResultsFile Bench::save() {
  if (!earlier) {
    write_results(out_dir / "results.json", results);
    return results;
  }
  std::vector<std::string> replaced;
  ResultsFile merged = merge_results(*earlier, results, &replaced);
  for (auto& id : replaced)
    if (std::find(announced_.begin(), announced_.end(), id) == announced_.end()) {
      announced_.push_back(id);
      std::fprintf(stderr, "note: row %s replaces the one an earlier run left in %s\n", id.c_str(),
                   (out_dir / "results.json").c_str());
    }
  write_results(out_dir / "results.json", merged);
  return merged;
}

namespace {

// Creates and removes a file in `dir`: an unwritable output folder is found before anything is measured.
void check_writable(const std::filesystem::path& dir) {
  const auto probe = dir / (".xrdbench-write-test." + std::to_string(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(dir.string(), "", std::string("the output folder cannot be written: ") + std::strerror(errno) +
                                      " (choose another --out)");
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

Bench open_bench(const BenchArgs& a, int argc, char** argv, bool want_device) {
  if (a.repeats < 1) cli::usage_error("--repeats: must be at least 1");
  if (a.warmup < 0) cli::usage_error("--warmup: must be 0 or more");
  if (a.threads < 0) cli::usage_error("--threads: must be 0 (all cores) or more");
  if (a.frames < 0) cli::usage_error("--frames: must be 0 (all frames) or more, not " + std::to_string(a.frames));
  if (a.bins < 1 || a.bins > kMaxBins)
    cli::usage_error("--bins: must be 1 to " + std::to_string(kMaxBins) + ", not " + std::to_string(a.bins));
  byte_offset::use_decoder(a.decoder);  // before capture_machine, which records the kernel
  Bench b;
  b.args = a;
  b.out_dir = a.out;
  std::error_code ec;
  std::filesystem::create_directories(b.out_dir, ec);
  if (ec) throw Error(b.out_dir.string(), "", "cannot create the output folder: " + ec.message());
  check_writable(b.out_dir);
  if (!a.no_write) {
    std::filesystem::create_directories(b.out_dir / "patterns", ec);
    if (ec) throw Error((b.out_dir / "patterns").string(), "", "cannot create the patterns folder: " + ec.message());
    check_writable(b.out_dir / "patterns");
  }
  if (a.results_writer) b.lock = FolderLock::acquire(b.out_dir);  // under mpirun: rank 0, which writes the results
  if (a.drop_caches && !running_as_root() && !a.quiet)
    std::fprintf(stderr, "warning: --drop-caches needs root (effective uid 0): cold rows are evicted with "
                         "posix_fadvise(DONTNEED) only, and results.json says drop_caches: false\n");

  DatasetOptions d;
  d.dir = a.dataset;
  if (!a.poni.empty()) d.poni = a.poni;
  if (!a.mask.empty()) d.mask = a.mask;
  if (!a.dark.empty()) d.dark = a.dark;
  if (!a.flat.empty()) d.flat = a.flat;
  d.integration.bins = a.bins;
  try {
    d.integration.unit = integration::parse_unit(a.unit);
    d.integration.split = integration::parse_split(a.split);
  } catch (const std::invalid_argument& e) {
    throw Error("", "", e.what());
  }
  d.max_frames = static_cast<size_t>(a.frames);
  d.threads = a.threads;
  b.scan = scan_option(a);
  d.quiet = a.quiet;
  try {
    b.ds = load_dataset(d);
  } catch (const std::bad_alloc&) {
    throw Error(a.dataset, "", "not enough memory to build the integration matrix (" + std::to_string(a.bins) +
                                   " bins, " + a.split + " splitting): use fewer --bins or --frames");
  }
  (void)scan_layout_of(b.ds, b.scan);  // frames that do not fit --scan-shape: said now, before measuring
  if (!a.quiet)
    std::fprintf(stderr, "dataset: %s: %zu frames of %zu x %zu, %.1f MB; matrix %zu non-zeros built in %.2f s\n",
                 b.ds.dir.c_str(), b.ds.frames(), b.ds.width, b.ds.height, static_cast<double>(b.ds.bytes) / 1e6,
                 b.ds.setup.csr.nnz(), b.ds.setup.build_seconds);

  const std::string device = cli::resolve_device(a.device, want_device);
  if (!want_device) {
    b.no_device_reason = "no OpenCL device was needed";
  } else if (device == "cpu") {
    b.no_device_reason = "--device cpu: no OpenCL device";
  } else {
    try {
      const ocl::DeviceSpec spec = ocl::parse_device_spec(device);
      b.device = std::make_unique<ocl::DeviceContext>(spec);
      for (size_t k = 1; k < spec.all.size(); ++k) {
        ocl::DeviceSpec one = spec;
        one.device = spec.all[k];
        b.extra_devices.push_back(std::make_unique<ocl::DeviceContext>(one));
      }
      if (!a.quiet)
        std::fprintf(stderr, "device: %s (%s, %s)%s\n", b.device->name().c_str(), b.device->platform().c_str(),
                     b.device->type().c_str(),
                     b.device->is_gpu() ? "" : ": no GPU here, \"GPU\" rows run on this OpenCL CPU device");
      if (!a.quiet && !b.extra_devices.empty())
        std::fprintf(stderr, "device: and %zu more for opencl-batched (opencl:all)\n", b.extra_devices.size());
    } catch (const std::exception& e) {
      b.no_device_reason = std::string("no OpenCL device (--device ") + device + "): " + e.what();
      if (!a.quiet) std::fprintf(stderr, "warning: %s; GPU rows will be marked failed\n", b.no_device_reason.c_str());
    }
  }

  MachineOptions mo;
  mo.threads_used = strategies::worker_threads(a.threads);
  mo.dataset_dir = b.ds.dir;  // machine.storage: the file system and device the frames are read from
  b.results.command = command_line(argc, argv);
  b.results.machine = capture_machine(mo);
  b.results.dataset = b.ds.info();
  auto& s = b.results.settings;
  s.repeats = a.repeats;
  s.warmup = a.warmup;
  s.bins = a.bins;
  s.unit = integration::to_string(b.ds.integration.unit);
  s.split = integration::to_string(b.ds.integration.split);
  s.verify_md5 = a.verify_md5;
  s.write = !a.no_write;
  s.device = b.device ? device : "cpu";
  s.drop_caches = false;  // set by the commands once /proc/sys/vm/drop_caches was really written

  // Rows already in the folder are kept, when they were measured the same way; else refuse now, before measuring.
  const auto existing = b.out_dir / "results.json";
  if (a.results_writer && std::filesystem::exists(existing, ec)) {
    ResultsFile earlier;
    try {
      earlier = read_results(existing);
    } catch (const std::exception& e) {
      throw Error(existing.string(), "",
                  std::string("exists but cannot take more rows (") + e.what() +
                      "): move it away or use another --out; it was left untouched");
    }
    ResultsFile now = b.results;
    now.settings.drop_caches = a.drop_caches;
    if (const std::string why = merge_conflict(earlier, now); !why.empty())
      throw Error(existing.string(), "",
                  "holds rows measured another way (" + why +
                      "): use another --out, or move that file away; it was left untouched");
    if (!a.quiet)
      std::fprintf(stderr, "adding to the %zu row%s already in %s (same dataset and settings)\n", earlier.rows.size(),
                   earlier.rows.size() == 1 ? "" : "s", existing.c_str());
    b.earlier = std::move(earlier);
  }
  return b;
}

}  // namespace xrd::harness
