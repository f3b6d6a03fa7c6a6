#include "harness/runner_cli.hpp"

#include <cstdio>
#include <iostream>
#include <thread>

#include "harness/environment.hpp"
#include "kernels/error.hpp"

namespace po = boost::program_options;

namespace xrd::harness {

void add_bench_options(po::options_description& visible, po::options_description& hidden, BenchArgs& a,
                       const std::string& default_out) {
  a.out = default_out;
  visible.add_options()
      ("dataset", po::value(&a.dataset)->required(), "folder of CBF frames or of NXmx HDF5 files (bitshuffle-LZ4), or an NXmx master file (from `xrdbench dataset synth [--format h5]`, or real)")
      ("poni", po::value(&a.poni), "geometry (default: DATASET/geometry.poni; required for a plain folder)")
      ("mask", po::value(&a.mask), "mask CBF, nonzero = masked (default: DATASET/mask.cbf when present)")
      ("bins", po::value(&a.bins)->default_value(1000), "radial bins")
      ("unit", po::value(&a.unit)->default_value("q_nm^-1"), "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm")
      ("split", po::value(&a.split)->default_value("bbox"), "pixel splitting: no, bbox, full")
      ("frames", po::value(&a.frames)->default_value(0), "use only the first N frames (0 = all)")
      ("device", po::value(&a.device)->default_value("opencl"),
       "OpenCL device for GPU rows: opencl[:PLATFORM[:DEVICE]] (first GPU, else first device), or cpu (none)")
      ("threads", po::value(&a.threads)->default_value(0), "worker threads of the parallel strategies (0 = all cores)")
      ("repeats", po::value(&a.repeats)->default_value(5), "timed runs per row (median and MAD over them)")
      ("warmup", po::value(&a.warmup)->default_value(1), "untimed runs before them")
      ("verify-md5", po::bool_switch(&a.verify_md5), "check every frame's Content-MD5 (a mismatch fails the frame)")
      ("no-write", po::bool_switch(&a.no_write), "do not write the patterns to HDF5 (OUT/patterns/ROW.h5)")
      ("drop-caches", po::bool_switch(&a.drop_caches),
       "cold rows: also write 3 to /proc/sys/vm/drop_caches (needs root)")
      ("out", po::value(&a.out)->default_value(default_out), "output folder: results.json, patterns/, ...")
      ("trace", po::value(&a.trace), "write the stage events of each row's last run to FILE (Chrome trace JSON)")
      ("quiet", po::bool_switch(&a.quiet), "no per-row lines on stderr");
  hidden.add_options()
      ("skip-eviction", po::bool_switch(&a.skip_eviction), "tests: cold rows without evicting");
}

void add_row_options(po::options_description& visible, RowArgs& r) {
  visible.add_options()
      ("strategy", po::value(&r.strategy)->default_value("sequential"), "strategy (`xrdbench strategies` lists them)")
      ("readers", po::value(&r.readers)->default_value(0), "reader threads (pool, opencl-batched; 0 = default 2)")
      ("integrator", po::value(&r.integrator)->default_value("cpu"),
       "where host-decoded frames are integrated: cpu|gpu")
      ("cache", po::value(&r.cache)->default_value("hot"),
       "hot (files in the page cache) | cold (evicted before each run)")
      ("batch", po::value(&r.batch)->default_value(0),
       "frames per device launch (opencl-batched; 0 = 16), frames decoded side by side per token (fused; 0 = 2)");
}

RowSpec make_row_spec(const RowArgs& r, const BenchArgs& a) {
  RowSpec spec;
  const auto& info = strat::find_strategy(r.strategy);
  spec.strategy = info.name;
  spec.cache = parse_cache_mode(r.cache);
  spec.opt.integrator = strat::parse_integrator(r.integrator);
  spec.opt.readers = info.uses_readers && r.readers < 1 ? 2 : r.readers;
  spec.opt.batch = r.batch;
  spec.opt.threads = a.threads;
  spec.opt.verify_md5 = a.verify_md5;
  return spec;
}

bool parse_args(int argc, char** argv, const po::options_description& visible, const po::options_description& hidden,
                const std::string& usage, int& status) {
  po::options_description all;
  all.add(visible).add(hidden);
  all.add_options()("help,h", "this help");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << visible << "  -h [ --help ]                this help\n";
    status = 0;
    return false;
  }
  try {
    po::notify(vm);
  } catch (const po::required_option& e) {
    throw Error("", "", std::string(e.what()) + " (see --help)");
  }
  return true;
}

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
  return o;
}

void Bench::save() const { write_results(out_dir / "results.json", results); }

Bench open_bench(const BenchArgs& a, int argc, char** argv, bool want_device) {
  if (a.repeats < 1) throw Error("", "--repeats", "must be at least 1");
  if (a.warmup < 0) throw Error("", "--warmup", "must be 0 or more");
  if (a.threads < 0) throw Error("", "--threads", "must be 0 (all cores) or more");
  Bench b;
  b.args = a;
  b.out_dir = a.out;
  std::error_code ec;
  std::filesystem::create_directories(b.out_dir, ec);
  if (ec) throw Error(b.out_dir.string(), "", "cannot create the output folder: " + ec.message());

  DatasetOptions d;
  d.dir = a.dataset;
  if (!a.poni.empty()) d.poni = a.poni;
  if (!a.mask.empty()) d.mask = a.mask;
  d.integration.bins = a.bins;
  try {
    d.integration.unit = integ::parse_unit(a.unit);
    d.integration.split = integ::parse_split(a.split);
  } catch (const std::invalid_argument& e) {
    throw Error("", "", e.what());
  }
  d.max_frames = a.frames;
  d.threads = a.threads;
  b.ds = load_dataset(d);
  if (!a.quiet)
    std::fprintf(stderr, "dataset: %s: %zu frames of %zu x %zu, %.1f MB; matrix %zu non-zeros built in %.2f s\n",
                 b.ds.dir.c_str(), b.ds.frames(), b.ds.width, b.ds.height, static_cast<double>(b.ds.bytes) / 1e6,
                 b.ds.setup.csr.nnz(), b.ds.setup.build_seconds);

  if (!want_device) {
    b.no_device_reason = "no OpenCL device was needed";
  } else if (a.device == "cpu") {
    b.no_device_reason = "--device cpu: no OpenCL device";
  } else {
    try {
      b.device = std::make_unique<ocl::DeviceContext>(ocl::parse_device_spec(a.device));
      if (!a.quiet)
        std::fprintf(stderr, "device: %s (%s, %s)%s\n", b.device->name().c_str(), b.device->platform().c_str(),
                     b.device->type().c_str(),
                     b.device->is_gpu() ? "" : ": no GPU here, \"GPU\" rows run on this OpenCL CPU device");
    } catch (const std::exception& e) {
      b.no_device_reason = std::string("no OpenCL device (--device ") + a.device + "): " + e.what();
      if (!a.quiet) std::fprintf(stderr, "warning: %s; GPU rows will be marked failed\n", b.no_device_reason.c_str());
    }
  }

  MachineOptions mo;
  mo.threads_used = a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency());
  b.results.command = command_line(argc, argv);
  b.results.machine = capture_machine(mo);
  b.results.dataset = b.ds.info();
  auto& s = b.results.settings;
  s.repeats = a.repeats;
  s.warmup = a.warmup;
  s.bins = a.bins;
  s.unit = integ::to_string(b.ds.integration.unit);
  s.split = integ::to_string(b.ds.integration.split);
  s.verify_md5 = a.verify_md5;
  s.write = !a.no_write;
  s.device = b.device ? a.device : "cpu";
  s.drop_caches = a.drop_caches;
  return b;
}

}  // namespace xrd::harness
