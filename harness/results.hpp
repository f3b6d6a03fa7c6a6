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
  std::map<std::string, double> stages_ms;  // per-frame ms per stage (profiler.hpp's stage names)
  std::optional<PaperValue> paper;     // the paper's row, or null
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

struct ResultsFile {
  std::string schema = kResultsSchema;
  std::string created;        // UTC ISO 8601; "" -> filled by write_results()
  std::string command;        // the command line
  nlohmann::json machine;     // capture_machine() (environment.hpp)
  DatasetInfo dataset;
  Settings settings;
  std::vector<ResultRow> rows;
  bool interrupted = false;
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

}  // namespace xrd::harness
