// What machine a result was measured on (the "machine" object of results.json), with a calibration measured in the
// same run (memcpy bandwidth, scalar decode time) that makes row times comparable across machines.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/results.hpp"

namespace xrd::ocl {
struct DeviceInfo;
}

namespace xrd::harness {

struct MachineOptions {
  int threads_used = 0;          // 0 -> std::thread::hardware_concurrency()
  bool calibrate = true;         // measure the calibration (~1-2 s); false -> "calibration": null
  bool opencl = true;            // list OpenCL devices; false -> "opencl": []
  size_t memcpy_bytes = 256u << 20;
  int calibration_repeats = 5;
  std::string build_type;        // "" -> inferred from the compile flags (NDEBUG, __OPTIMIZE__, sanitizers)
  std::filesystem::path dataset_dir;  // "" -> "storage": null; else the file system and block device it is on
};

struct Calibration {
  double memcpy_GBps = 0;        // bytes copied / s / 1e9, median of `repeats` copies of `bytes` bytes
  double scalar_decode_ms = 0;   // byte_offset::decode_scalar of calibration_frame(), median of `repeats` (wall time)
  double scalar_decode_cpu_ms = 0;  // the same decodes in thread CPU time: what a busy or shared machine inflates less
};

// Every key of the schema's "machine" object: hostname, cpu_model, cores, threads_used, memory_bytes, kernel, os,
// compiler, build_type, commit, xrdbench_version, simd, opencl [...], calibration {...}, and what Google Benchmark's
// context records: cpu_frequency {...}, caches [...], load_average [1, 5, 15 min] at capture; plus storage {...}.
nlohmann::json capture_machine(const MachineOptions& opt = {});

// The 1-, 5- and 15-minute load averages (/proc/loadavg), or nothing when unreadable.
std::optional<std::array<double, 3>> read_load_average();
// A row's "load_average": {"before": [1, 5, 15 min], "after": [...]} (an unreadable side is null).
nlohmann::json row_load_average_json(const std::optional<std::array<double, 3>>& before,
                                     const std::optional<std::array<double, 3>>& after);

// "cpu_frequency": {"cur_mhz", "min_mhz", "max_mhz", "governor", "driver", "source"}: cpufreq of cpu0 in sysfs,
// else "cpu MHz" of /proc/cpuinfo (source says which); a key that cannot be read is null.
nlohmann::json cpu_frequency_json();
// "caches": [{"level", "type", "size_bytes", "shared_by_cpus"}] of cpu0 (sysfs), [] when unreadable.
nlohmann::json cpu_caches_json();
// "storage": where `dir` lives: {"path", "mount", "fs_type", "source", "block_device", "disk", "model",
// "rotational"} from /proc/self/mountinfo and /sys/dev/block; keys that cannot be found are null.
nlohmann::json storage_json(const std::filesystem::path& dir);

// Noise warnings (hyperfine-style), the same rules as reports/xrdresults.py's noise_warnings(): a row whose fps MAD
// is above kNoiseMadRatio of its median, or whose 1-minute load average before or after it was above `cpus`.
inline constexpr double kNoiseMadRatio = 0.05;
std::vector<std::string> noise_warnings(const ResultRow& row, int cpus);
// The source tree's commit (short hash; $XRD_COMMIT when set, for bundles without .git), or "unknown".
std::string git_commit();

Calibration measure_calibration(size_t memcpy_bytes = 256u << 20, int repeats = 5);

// A deterministic 1475 x 1679 Pilatus-2M-like int32 image (fixed RNG: background, rings, gaps at -1) and its
// byte-offset encoding: the calibration's decode workload.
std::vector<int32_t> calibration_frame();
std::vector<uint8_t> calibration_stream();

// The OpenCL devices of every platform, as the schema's machine.opencl array ([] when there is no platform).
nlohmann::json opencl_devices_json();
// One device as JSON (every limit `xrdbench devices --json` shows; results.json carries the same object).
nlohmann::json opencl_device_json(const ocl::DeviceInfo& d);

}  // namespace xrd::harness
