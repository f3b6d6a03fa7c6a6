// What `xrdbench run`, `table1` and `profile` share: their dataset/integration/runner options, opening the dataset
// and the OpenCL device, and the results file they write after every row (so Ctrl-C keeps the finished rows).
#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/program_options.hpp>

#include "harness/dataset.hpp"
#include "harness/results.hpp"
#include "harness/runner.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

struct BenchArgs {
  std::string dataset, poni, mask;
  int bins = 1000;
  std::string unit = "q_nm^-1", split = "bbox";
  std::string device = "opencl";
  std::string decoder = "auto";  // the CPU byte-offset kernel (bo::use_decoder)
  size_t frames = 0;
  int threads = 0;
  int repeats = 5, warmup = 1;
  bool verify_md5 = false, no_write = false, drop_caches = false, skip_eviction = false, quiet = false;
  std::string out, trace;
};

// --dataset --poni --mask --bins --unit --split --frames --device --decoder --threads --repeats --warmup --verify-md5
// --no-write --drop-caches --out --trace --quiet (and the hidden --skip-eviction, for tests).
void add_bench_options(boost::program_options::options_description& visible,
                       boost::program_options::options_description& hidden, BenchArgs& a,
                       const std::string& default_out);

// One row's options, as `run` and `profile` take them.
struct RowArgs {
  std::string strategy = "sequential", integrator = "cpu", cache = "hot";
  int readers = 0, batch = 0;
};
// --strategy --readers --integrator --cache --batch.
void add_row_options(boost::program_options::options_description& visible, RowArgs& r);
// The row they describe (readers default to 2 for strategies with readers), with the bench's threads and MD5 choice.
// Throws xrd::Error naming the known strategies, std::invalid_argument for a bad --integrator or --cache.
RowSpec make_row_spec(const RowArgs& r, const BenchArgs& a);

// An opened benchmark: the dataset with its Setup, the device (or why there is none), the results file so far.
struct Bench {
  BenchArgs args;
  Dataset ds;
  std::unique_ptr<ocl::DeviceContext> device;
  std::string no_device_reason;   // why device is null ("--device cpu", or the error opening it)
  std::filesystem::path out_dir;
  ResultsFile results;

  RunnerOptions runner_options() const;
  // Writes out_dir/results.json (atomically).
  void save() const;
};

// Loads the dataset (prints what it found on stderr unless quiet), opens the device when `want_device`, captures
// the machine, fills the results header. Throws xrd::Error with a clear message on bad input.
Bench open_bench(const BenchArgs& a, int argc, char** argv, bool want_device);

// Parses argv into the options (help -> prints usage and returns false with status 0; a bad option throws).
bool parse_args(int argc, char** argv, const boost::program_options::options_description& visible,
                const boost::program_options::options_description& hidden, const std::string& usage, int& status);

}  // namespace xrd::harness
