// results.json (schema "xrdbench-results/1", docs/results-schema.md): C++ structs mirroring the schema, their JSON
// form, an atomic writer and a validating reader. One file = one machine, one dataset, one invocation.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xrd::harness {

inline constexpr const char* kResultsSchema = "xrdbench-results/1";
inline constexpr size_t kMaxListedErrors = 20;  // "errors" lists at most this many (failed_frames counts all)

struct FpsStats {
  double median = 0, mad = 0;
  std::vector<double> runs;
};
// median and mad of the runs (throws xrd::Error when runs is empty).
FpsStats summarize_fps(std::vector<double> runs);

struct WallStats {
  double median = 0;
  std::vector<double> runs;  // seconds
};

struct FrameError {
  std::string file, reason;
};

struct PaperValue {
  double median_fps = 0, mad_fps = 0;
};

struct ResultRow {
  std::string id;                      // "pool-4-gpu-MEM": unique in the file, stable across machines
  std::string strategy;                // registry name
  std::string label;                   // human-readable
  std::optional<int> readers;          // null for strategies without readers
  std::string integrator = "cpu";      // "cpu" | "gpu"
  std::string device = "cpu";          // the integrating device; "cpu" for CPU integration
  bool device_is_cpu_opencl = false;   // a "GPU" row that ran on an OpenCL CPU device
  std::string source = "MEM";          // "SSD" (cold) | "MEM" (hot)
  std::string codec = "byte-offset";   // the frames' codec it decoded ("byte-offset" | "bitshuffle-lz4")
  std::string read_method = "pread";   // how its files were read (--read-method; the paper's rows: pread)
  int read_ahead = 0;                  // reader threads reading ahead of the workers (--read-ahead; 0: none)
  int threads = 0;                     // worker threads of the parallel strategies (--threads resolved; 0: not recorded)
  // The kernels it ran (Strategy::kernels(); "" in files written before they were recorded, or when prepare failed):
  std::string decoder;                 // the decoder kernel: "avx2", "avx512", "scalar", ... or "opencl" (on the device)
  std::string engine;                  // the integration engine (strategies/engines.hpp): "fast", "reference", "opencl", ...
  std::string engine_variant;          // its kernel: "avx2-gather" | "scalar" (fast), the device (opencl); "" when one
  FpsStats fps;
  WallStats wall_s;
  uint64_t frames = 0;                 // frames per run
  uint64_t failed_frames = 0;
  std::vector<FrameError> errors;      // at most kMaxListedErrors written
  double residency_before = 0;         // min over runs
  std::vector<double> residency_runs;
  bool validated = false;
  std::optional<double> max_rel_diff;  // null when nothing could be compared
  bool valid = false;
  std::vector<std::string> invalid_reasons;
  std::map<std::string, double> stages_ms;  // per-frame ms per stage (base/profiler.hpp's stage names)
  std::optional<PaperValue> paper;     // the paper's row, or null
  nlohmann::json load_average;         // {"before": [1, 5, 15 min], "after": [...]} (environment.hpp), or null
  // Rows run by `mpirun -n R` (R > 1): {"ranks", "hosts", "distribution", "gather_write_s", "per_rank": [...]}
  // (harness/mpi_row.cpp builds it; docs/results-schema.md). Null otherwise, and then absent from the JSON.
  nlohmann::json mpi;
  // Rows that wrote their sinogram: what the HDF5 sink (harness/sinks.hpp) cost, medians over the timed runs, in ms
  // per run: {"create_ms", "waited_ms", "writer_ms", "drain_ms", "close_ms", "max_queued"} (docs/results-schema.md).
  // Null otherwise, and then absent from the JSON.
  nlohmann::json sink;
};

// "<strategy>[-<readers>]-<integrator>-<source>", e.g. row_id("pool", 4, "gpu", "MEM") = "pool-4-gpu-MEM".
std::string row_id(const std::string& strategy, std::optional<int> readers, const std::string& integrator,
                   const std::string& source);

struct DatasetInfo {
  std::string path;
  uint64_t frames = 0, bytes = 0;
  uint64_t width = 0, height = 0;
  nlohmann::json manifest;  // manifest.json of `dataset synth`, or null
  std::string format = "cbf";          // "cbf" (a file per frame) | "nxmx" (HDF5 master / data files)
  std::string codec = "byte-offset";   // "byte-offset" | "bitshuffle-lz4"
  std::string element;                 // stored pixel type, e.g. "unsigned 16-bit integer" ("" when unknown)
};

struct Settings {
  int repeats = 5, warmup = 1, bins = 1000;
  std::string unit = "q_nm^-1", split = "bbox";
  bool verify_md5 = false, write = true;
  std::string device = "cpu";
  bool drop_caches = false;
};

// An earlier invocation whose rows the file also holds (runs into one --out add their rows to the file).
struct PreviousRun {
  std::string created, command;
};

struct ResultsFile {
  std::string schema = kResultsSchema;
  std::string created;        // UTC ISO 8601; "" -> filled by write_results()
  std::string command;        // the command line
  nlohmann::json machine;     // capture_machine() (environment.hpp)
  DatasetInfo dataset;
  Settings settings;
  std::vector<ResultRow> rows;
  bool interrupted = false;
  // table1 with cold rows: the disk's read bound for this dataset (read_bound_json() in runner.hpp); null otherwise.
  nlohmann::json read_bound;
  // run / table1 with a row on an OpenCL device: the host-to-device bound (H2dBound::to_json, h2d_bound.hpp); null
  // otherwise.
  nlohmann::json h2d_bound;
  std::vector<PreviousRun> previous_runs;  // "previous_runs": oldest first; [] when one invocation wrote every row
  nlohmann::json realtime;    // `xrdbench realtime`'s block (schema "xrdbench-realtime/1", docs/realtime.md), or null
};

nlohmann::json to_json(const ResultRow& r);
nlohmann::json to_json(const DatasetInfo& d);
nlohmann::json to_json(const Settings& s);
nlohmann::json to_json(const ResultsFile& f);

// From JSON; unknown keys are ignored. Throw xrd::Error naming the key and what was expected.
ResultRow row_from_json(const nlohmann::json& j);
ResultsFile results_from_json(const nlohmann::json& j, const std::string& source = "");

// Throws xrd::Error (naming `source` and the key) when j is not a valid xrdbench-results/1 document: wrong or missing
// "schema", or a required key missing or of the wrong type.
void check_results_json(const nlohmann::json& j, const std::string& source = "");

// The command line as one string, arguments with spaces quoted.
std::string command_line(int argc, char** argv);
// Now, UTC, "2026-11-24T10:00:00Z".
std::string utc_now_iso8601();

// Writes atomically (temporary file in the same folder, then rename); fills "created" when empty.
void write_results(const std::filesystem::path& path, const ResultsFile& f);
// Reads and validates (check_results_json); a file with another "schema" is refused with a clear message.
ResultsFile read_results(const std::filesystem::path& path);

// Why rows of `earlier` and of `now` cannot share one results file (another dataset, frame count, shape, bins, unit,
// splitting, repeats, warm-up or MD5 setting), as "settings.bins: 1000 in the file, 500 now"; "" when they can.
std::string merge_conflict(const ResultsFile& earlier, const ResultsFile& now);

// Rows of one file with the rows of `now` added: a row of `now` replaces the earlier row of the same id in place
// (its id returned in `replaced`), the others are appended. `earlier`'s command becomes a previous run.
ResultsFile merge_results(const ResultsFile& earlier, const ResultsFile& now, std::vector<std::string>* replaced);

// An exclusive advisory lock (flock) on DIR/.xrdbench.lock, held while the object lives: one invocation at a time
// writes results into a folder. acquire() does not wait: when another process holds it, it throws xrd::Error naming
// the folder and that process's pid (written into the lock file).
class FolderLock {
 public:
  static FolderLock acquire(const std::filesystem::path& dir);
  FolderLock(FolderLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FolderLock& operator=(FolderLock&& o) noexcept;
  FolderLock(const FolderLock&) = delete;
  ~FolderLock();
  FolderLock() = default;

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace xrd::harness
