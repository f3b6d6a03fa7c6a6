// What machine a result was measured on (the "machine" object of results.json), with a calibration measured in the
// same run (memcpy bandwidth, scalar decode time) that makes row times comparable across machines.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
};

struct Calibration {
  double memcpy_GBps = 0;        // bytes copied / s / 1e9, median of `repeats` copies of `bytes` bytes
  double scalar_decode_ms = 0;   // bo::decode_scalar of calibration_frame(), median of `repeats` (wall time)
  double scalar_decode_cpu_ms = 0;  // the same decodes in thread CPU time: what a busy or shared machine inflates less
};

// Every key of the schema's "machine" object: hostname, cpu_model, cores, threads_used, memory_bytes, kernel, os,
// compiler, build_type, commit, xrdbench_version, simd, opencl [...], calibration {...}.
nlohmann::json capture_machine(const MachineOptions& opt = {});

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
