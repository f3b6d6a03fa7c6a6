// The runner: one row of a benchmark = one strategy with its options on one dataset, cold or hot. It prepares the
// page cache, runs a warm-up and `repeats` timed runs, checks residency, validates every run's patterns against the
// reference, and summarizes (median/MAD fps, wall time, per-stage times) into a results.json row.
#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/dataset.hpp"
#include "harness/h5_writer.hpp"
#include "base/profiler.hpp"
#include "harness/progress.hpp"
#include "harness/reporters.hpp"
#include "harness/results.hpp"
#include "harness/validate.hpp"
#include "strategies/strategy.hpp"

namespace xrd::ocl {
class DeviceContext;
}

namespace xrd::harness {
namespace mpi {
class Session;
}

enum class CacheMode { hot, cold };
const char* source_name(CacheMode c);  // "MEM" (hot) | "SSD" (cold): the paper's words
CacheMode parse_cache_mode(const std::string& s);  // "hot" | "cold"; throws std::invalid_argument

// Residency bounds: a cold row with more resident, or a hot row with less, is invalid.
inline constexpr double kColdMaxResident = 0.01;
inline constexpr double kHotMinResident = 0.99;

struct RowSpec {
  std::string strategy;   // registry name
  strategies::Options opt;
  CacheMode cache = CacheMode::hot;
  std::string id;         // "" -> row_id(strategy, readers, integrator, source)
  std::string label;      // "" -> made from the above
  std::optional<PaperValue> paper;  // the paper's figures for this row (table1), copied into the row
};

// The label a row gets when spec.label is empty: "pool (4 readers), GPU integration, MEM (hot)".
std::string default_label(const RowSpec& spec);
// spec.id, or row_id(strategy, readers (strategies with readers only), cpu|gpu, SSD|MEM).
std::string row_id_of(const RowSpec& spec);
// Whether the row runs on the OpenCL device (a device strategy, or gpu integration).
bool row_uses_device(const RowSpec& spec);

struct RunnerOptions {
  int repeats = 5;
  int warmup = 1;
  bool write = true;                 // write each row's patterns to out_dir/patterns/<row id>.h5
  std::filesystem::path out_dir = "out";
  bool drop_caches = false;          // cold rows: also write /proc/sys/vm/drop_caches (root only)
  bool skip_eviction = false;        // hidden (tests): cold rows without evicting, to exercise the residency check
  bool trace = false;                // keep every row's last-run stage events (trace_events())
  bool quiet = false;                // the commands attach no ConsoleReporter (the runner itself never prints)
  std::string no_device_reason;      // why there is no device, for the rows that need one
  h5::ScanLayout scan;               // --scan-shape: the files' sinogram layout (else the manifest's scan, if any)
  // mpirun: the job's ranks. With more than one, every row runs on each rank's contiguous block of the frames
  // (harness/mpi_row.cpp); null or one rank: this process runs every frame.
  const mpi::Session* mpi = nullptr;
  std::vector<ocl::DeviceContext*> extra_devices;  // --device opencl:all: devices beside `device` (opencl-batched)
  double mpi_timeout_s = 600;        // a rank waiting longer than this for the others at a barrier aborts the job
};

// The sinogram layout of the patterns files: `given` when active, else the dataset manifest's scan (rotations cut to
// the frames used), else none (frames x bins). Throws xrd::Error when the frames do not fit the given scan.
h5::ScanLayout scan_layout_of(const Dataset& ds, const h5::ScanLayout& given);
// The layout of a row's patterns file (OUT/patterns/ROW.h5): the frames (named by the dataset's source), the radial
// axis, scan_layout_of(ds, given) and the NXprocess of the reduction (PONI text, mask MD5, options, row id).
h5::NxLayout row_pattern_layout(const Dataset& ds, const h5::ScanLayout& given, const std::string& row_id);
// A row's patterns file read back and compared with the reference: every frame reduced (ok of them) valid and equal
// to the reference, every failed frame (failed_frames[i] = 1) invalid with NaN rows. Returns the problems (empty: good).
std::vector<std::string> check_patterns_file(const std::filesystem::path& path, const PatternSet& ref,
                                             const std::vector<uint8_t>& failed_frames, size_t ok);

// Thrown by run_row when the stop flag was raised during the row: the row is discarded, earlier rows stand.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

class Runner {
 public:
  // device: the OpenCL device for gpu rows (null: gpu rows fail with a clear reason). stop: Ctrl-C flag.
  Runner(const Dataset& ds, RunnerOptions opt, ocl::DeviceContext* device, const std::atomic<bool>* stop,
         Progress* progress);
  ~Runner();

  // The reference patterns (sequential strategy, scalar decoder, plain CSR integrator, CPU), computed on first use.
  const PatternSet& reference();

  // Where finished rows and progress notes go (reporters.hpp); null: nowhere. The runner prints nothing itself.
  void set_reporter(Reporter* reporter) { reporter_ = reporter; }

  // Warm-up + repeats of one row, then the row to the reporter. Never throws for a failing strategy (the row says
  // why it is invalid); throws Interrupted when the stop flag was raised (nothing reported).
  ResultRow run_row(const RowSpec& spec);

  // The last run of every row run with options.trace, laid end to end in time, one thread lane per row and thread.
  const std::vector<StageEvent>& trace_events() const { return trace_events_; }
  const std::map<int, std::string>& trace_thread_names() const { return trace_names_; }

  // The device description for results ("cpu" for CPU integration) and whether it is an OpenCL CPU device.
  std::string device_name() const;
  bool device_is_cpu() const;
  // Whether /proc/sys/vm/drop_caches was written before some cold run (--drop-caches, as root).
  bool drop_caches_done() const { return drop_caches_done_; }

 private:
  ResultRow measure_row(const RowSpec& spec);  // run_row in this process
  ResultRow run_row_mpi(const RowSpec& spec);  // run_row on the ranks of opt_.mpi (harness/mpi_row.cpp)
  void reference_mpi();                        // reference() computed by the ranks, kept by rank 0 (mpi_row.cpp)
  // The context a row's strategy runs in (runner.cpp): frames from `source`, the dataset's setup, the row's options,
  // this runner's device(s) when the row uses one, the stop flag; and the reference run's (sequential, scalar
  // decoder, plain CSR integrator).
  strategies::RunContext row_context(const RowSpec& spec, const frames::FrameSource& source, strategies::FrameSink& sink,
                                StageProfiler& prof) const;
  strategies::RunContext reference_context(const frames::FrameSource& source, strategies::FrameSink& sink) const;
  double prepare_cache(CacheMode mode);
  void keep_trace(const std::string& row_id, const StageProfiler& prof);

  const Dataset& ds_;
  RunnerOptions opt_;
  ocl::DeviceContext* device_;
  const std::atomic<bool>* stop_;
  Progress* progress_;
  Reporter* reporter_ = nullptr;
  std::optional<PatternSet> reference_;
  std::vector<StageEvent> trace_events_;
  std::map<int, std::string> trace_names_;
  double trace_end_ = 0;
  int trace_rows_ = 0;
  size_t rows_done_ = 0;
  bool drop_caches_done_ = false;
};

// What the disk allows for this dataset when nothing is cached: every file evicted, then read once (cache.hpp's
// warm()) by `threads` threads, each taking every threads-th file. The bound a cold row can reach at best.
struct ReadBound {
  int threads = 1;
  double seconds = 0, mb_per_s = 0, frames_per_s = 0;
  double resident_before = 0;  // fraction resident after the eviction (> 0.01: the figure is not a disk figure)
  io::ReadMethod method = io::ReadMethod::pread;  // how the files were read (io::FileReader; pread: read() loop)
  std::string fallback;  // why `method` was not used (O_DIRECT refused by tmpfs, no io_uring): read with pread
};
// Files that cannot be opened are left out (the rows report them). drop_caches_done: set when drop_caches was written.
ReadBound measure_cold_read(const Dataset& ds, int threads, bool drop_caches, bool* drop_caches_done = nullptr,
                            io::ReadMethod method = io::ReadMethod::pread);

// The disk's bound as fio finds it: measure_cold_read() with each read method (pread, uring: 16 requests of 512 KiB
// in flight per thread; direct: O_DIRECT, 4 MiB requests) and 1, 2, 4, ... threads (up to 4x the cores, at least 16),
// the best of them all. A cold row reads the same files: it cannot beat `best`.
struct ReadBoundSweep {
  std::vector<ReadBound> sweep;
  ReadBound best;
  nlohmann::json to_json() const;  // {"best": {...}, "sweep": [...]}, results.json's "read_bound"
};
ReadBoundSweep measure_read_bound(const Dataset& ds, bool drop_caches, bool* drop_caches_done = nullptr);

// Ctrl-C, SIGTERM (batch schedulers, `timeout`) and SIGHUP (the terminal closed): the first one raises the
// returned flag (strategies stop between frames, the finished rows are kept, the HDF5 files being written are
// closed with the frames done marked valid; the commands then exit 130); a second one kills the process the
// default way.
const std::atomic<bool>& install_interrupt_handler();

}  // namespace xrd::harness
