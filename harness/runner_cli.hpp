// What `xrdbench run`, `table1` and `profile` share: their dataset/integration/runner options, opening the dataset
// and the OpenCL device, and the results file they write after every row (so Ctrl-C keeps the finished rows).
#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "harness/cli.hpp"
#include "harness/dataset.hpp"
#include "harness/h2d_bound.hpp"
#include "harness/results.hpp"
#include "harness/runner.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

struct BenchArgs {
  std::string dataset, poni, mask, dark, flat;
  int bins = 1000;  // 1 .. kMaxBins
  std::string unit = "q_nm^-1", split = "bbox";
  std::string device = "auto";  // cli::add_device_option: an OpenCL device for the GPU rows, when there are some
  std::string decoder = "auto";  // the CPU byte-offset kernel (byte_offset::use_decoder)
  long long frames = 0;  // >= 0 (0 = all); signed so that a negative value is refused, not wrapped
  int threads = 0;
  int repeats = 5, warmup = 1;
  bool verify_md5 = false, no_write = false, drop_caches = false, skip_eviction = false, quiet = false;
  std::string out, trace;
  std::string scan_shape, scan_rotation, scan_translation;  // --scan-shape R,T [--scan-rotation A,B] [...]
  double mpi_timeout = 600;  // under mpirun: seconds a rank waits at a barrier before aborting the job
  std::string read_method = "auto";  // --read-method: auto | pread | mmap | direct | uring (our rows)
  std::string read_ahead = "auto";   // --read-ahead: auto | N (pipeline, fused: reader threads ahead of the workers)
  bool results_writer = true;  // false on MPI ranks other than 0: no folder lock, no earlier results read
};

// --dataset --poni --mask --bins --unit --split --frames --device --decoder --threads --repeats --warmup --verify-md5
// --no-write --drop-caches --out --trace --quiet --scan-shape --scan-rotation --scan-translation (and the hidden
// --skip-eviction, for tests).
void add_bench_options(boost::program_options::options_description& visible,
                       boost::program_options::options_description& hidden, BenchArgs& a,
                       const std::string& default_out);

// One row's options, as `run` and `profile` take them.
// The largest --bins accepted: far more than any detector's radial resolution (a Pilatus 2M has ~2,000 pixels from
// centre to corner), small enough that the per-bin arrays of a run fit in memory.
inline constexpr int kMaxBins = 1000000;

struct RowArgs {
  std::string strategy = "sequential", integrator = "cpu", cache = "hot";
  int readers = 0, batch = 0;
};
// --strategy --readers --integrator --cache --batch.
void add_row_options(boost::program_options::options_description& visible, RowArgs& r);
// The row they describe (readers default to 2 for strategies with readers), with the bench's threads and MD5 choice.
// Throws xrd::Error naming the known strategies, std::invalid_argument for a bad --integrator or --cache.
RowSpec make_row_spec(const RowArgs& r, const BenchArgs& a);

// --engine NAME[:VARIANT] (run, table1, profile): the integration engine of the rows that integrate on the host
// (strategies/engines.hpp's table; `xrdbench strategies` lists it). `extra`: what this subcommand adds.
void add_engine_option(boost::program_options::options_description& visible, std::string& engine,
                       const std::string& extra);
// Checks --engine and sets it on a row. Usage errors (exit 2): an unknown NAME (the known names listed) or VARIANT
// (the engine's variants listed); a strategy that decodes and integrates on its device (opencl, opencl-batched);
// a CPU engine with --integrator gpu, or opencl with --integrator cpu. "" leaves the row's default engine.
void apply_engine(RowSpec& spec, const std::string& engine);
// "fast:scalar" -> "fast-scalar": --engine as the end of a row id.
std::string engine_id_suffix(const std::string& engine);
// --csv FILE (run, table1): CsvReporter's file (reporters.hpp).
void add_csv_option(boost::program_options::options_description& visible, std::string& csv);
// Whether --engine chooses this row's engine: a host strategy integrating on the CPU (table1 sets it on those rows).
bool engine_applies(const RowSpec& spec);

// How a row reads its files: the paper's rows (sequential, pool, opencl) always pread, as their readers do; ours
// (pipeline, fused, opencl-batched) the --read-method given, or with "auto" the method measured best for the cache
// mode (hot: kDefaultHotRead, cold: kDefaultColdRead; reports/results/h200/readers/NOTES.md).
io::ReadMethod row_read_method(const std::string& arg, const std::string& strategy, CacheMode cache);

// Reader threads reading ahead of the workers (Options::read_ahead) for a row: 0 for every strategy but pipeline and
// fused (the paper's rows read as they did; opencl-batched has its own readers); for those, N as given, or with
// "auto" default_read_ahead(cache). Throws cli::UsageError naming --read-ahead for anything but auto or 0 to 64.
int row_read_ahead(const std::string& arg, const std::string& strategy, CacheMode cache);
// --read-ahead auto: hot 0 (the page cache answers at memory speed: each worker reads its own frame, no hand-over);
// cold 4 (2 on one core): 4 requests in flight cover the disks measured (the O_DIRECT bound is reached by 1-2
// threads on the GPU machine, buffered reads by 4-8 on the VM) and measured best of 0/1/2/4 on the 2-core VM
// (reports/results/vm-cold/NOTES.md); the readers sleep in the kernel, they cost the cores little.
int default_read_ahead(CacheMode cache, unsigned cores);

// An opened benchmark: the dataset with its Setup, the device (or why there is none), the results file so far.
struct Bench {
  BenchArgs args;
  Dataset ds;
  std::unique_ptr<ocl::DeviceContext> device;
  std::vector<std::unique_ptr<ocl::DeviceContext>> extra_devices;  // --device opencl:all: the host's other GPUs
  std::string no_device_reason;   // why device is null ("--device cpu", or the error opening it)
  std::filesystem::path out_dir;
  FolderLock lock;                // held while the bench lives: one invocation writes into out_dir at a time
  std::optional<ResultsFile> earlier;  // out_dir/results.json as found: its rows are kept (merge_results)
  ResultsFile results;            // this invocation's header and rows
  h5::ScanLayout scan;            // --scan-shape (inactive when not given)

  RunnerOptions runner_options() const;
  // Writes out_dir/results.json (atomically): the earlier rows with this invocation's added (a row of the same id
  // replaces the earlier one, said on stderr once). Returns what was written.
  ResultsFile save();

 private:
  std::vector<std::string> announced_;  // replaced row ids already said
};

// Checks the options (negative or out-of-range values are refused, naming the option), makes the output folder and
// checks that it can be written (before anything is measured), locks it against a concurrent invocation, loads the
// dataset (prints what it found on stderr unless quiet), refuses an existing OUT/results.json that cannot take this
// invocation's rows (unreadable, other dataset or settings: merge_conflict), opens the device when `want_device`,
// captures the machine, fills the results header. Throws xrd::Error with a clear message on bad input.
Bench open_bench(const BenchArgs& a, int argc, char** argv, bool want_device);

// The host-to-device bound measured now into `h2d` (harness/h2d_bound.hpp, on b.device with b's dataset). A failed
// measurement is said on stderr ("warning: the host-to-device bound was not measured: ...") and returns false: the
// bound is left out, the rows are kept either way.
bool measure_h2d_or_warn(H2dBound& h2d, Bench& b);

// The host-to-device bound of an invocation whose rows use the device (run, table1): measured when made (before the
// rows) and again by after() (after them), each time through measure_h2d_or_warn; only for one process (not under
// mpirun) with a device open.
class SameRunBus {
 public:
  SameRunBus(Bench& b, bool want_device, int ranks);
  // Into results.json (h2d_bound) once measured.
  void fill(ResultsFile& f) const;
  // After the rows, unless interrupted: measures again and returns the lines to print (the bound, then each GPU row
  // of `done` as a % of it); empty when it was not measured.
  std::vector<std::string> after(const std::vector<ResultRow>& done, bool interrupted);

 private:
  Bench& b_;
  H2dBound h2d_;
  bool ok_ = false;  // measured before the rows
};

// Parses argv into the options through cli::parse (help -> prints it and returns false with status 0; a bad option
// throws cli::UsageError: exit 2).
bool parse_args(int argc, char** argv, const boost::program_options::options_description& visible,
                const boost::program_options::options_description& hidden, const cli::Help& help, int& status);

}  // namespace xrd::harness
