// OpenCL devices: discovery (`xrdbench devices`), the `--device cpu|opencl[:PLATFORM[:DEVICE]]` option, and the
// RAII context (context + device + queues) every OpenCL engine runs in. No OpenCL types leak out of this header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xrd::ocl {

// One OpenCL device as the runtime reports it; what results JSON and `xrdbench devices` show.
struct DeviceInfo {
  int platform_index = -1, device_index = -1;  // positions in list_devices() order
  std::string platform;          // "NVIDIA CUDA", "Portable Computing Language"
  std::string platform_version;  // "OpenCL 3.0 CUDA 12.4.131"
  std::string name;              // "NVIDIA H100 80GB HBM3"
  std::string vendor;
  std::string driver;            // CL_DRIVER_VERSION
  std::string version;           // CL_DEVICE_VERSION, "OpenCL 3.0 CUDA"
  std::string type;              // "GPU", "CPU", "ACCELERATOR", "OTHER"
  bool is_gpu = false;
  unsigned compute_units = 0;
  unsigned clock_mhz = 0;
  uint64_t global_mem_bytes = 0;
  uint64_t max_alloc_bytes = 0;
  uint64_t local_mem_bytes = 0;
  size_t max_work_group_size = 0;
  bool fp64 = false;             // cl_khr_fp64
  std::string id() const;        // "opencl:P:D"
};

// Every device of every platform, in platform then device order. Empty (never throws) when there is no ICD or
// no platform, so `devices` and results JSON work on machines without OpenCL.
std::vector<DeviceInfo> list_devices();

// A parsed and resolved `--device` value.
//   cpu                           no OpenCL (the CPU engines)
//   opencl                        the first GPU of any platform, else the first device
//   opencl:PLATFORM               the first GPU of that platform, else its first device
//   opencl:PLATFORM:DEVICE        that device
//   opencl:local-rank             under mpirun, rank i of a host takes GPU i mod (GPUs of the host), in
//   opencl:PLATFORM:local-rank    list_devices() order (no GPU: the devices); outside mpirun, the first one
//   opencl:all                    every GPU of the host (no GPU: the first device, as `opencl`); strategies that
//   opencl:PLATFORM:all           spread over devices (opencl-batched) use them all, the others the first
// PLATFORM and DEVICE are indices (as `xrdbench devices` prints them) or case-insensitive substrings of the
// platform name or version / the device name or vendor ("opencl:nvidia", "opencl:pocl:0", "opencl::h100").
struct DeviceSpec {
  enum class Kind { cpu, opencl };
  Kind kind = Kind::cpu;
  std::string text;                        // as given
  std::string platform_sel, device_sel;    // the selectors as given ("" = any)
  DeviceInfo device;                       // resolved device (kind == opencl only)
  std::vector<DeviceInfo> all;             // opencl:all: every device to spread over, `device` first; else empty
  bool is_opencl() const { return kind == Kind::opencl; }
};

// Parses and, for `opencl...`, resolves against list_devices(). Throws xrd::Error on bad syntax and, when no
// device matches, an error that lists the devices that are available. local_rank: the rank's index on its host
// for `local-rank` (-1: Open MPI's OMPI_COMM_WORLD_LOCAL_RANK, 0 without it).
DeviceSpec parse_device_spec(const std::string& text, int local_rank = -1);

// A context on one device with its queues (profiling enabled), built-program cache and device facts.
// Move-only; every OpenCL object is released in the destructor.
class DeviceContext {
 public:
  explicit DeviceContext(const DeviceSpec& spec);  // spec.kind must be opencl
  explicit DeviceContext(const std::string& spec_text = "opencl");
  ~DeviceContext();
  DeviceContext(DeviceContext&&) noexcept;
  DeviceContext& operator=(DeviceContext&&) noexcept;
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;

  const DeviceInfo& info() const;
  const std::string& name() const { return info().name; }
  const std::string& platform() const { return info().platform; }
  const std::string& driver() const { return info().driver; }
  const std::string& type() const { return info().type; }
  bool is_gpu() const { return info().is_gpu; }

  // For the kernels/ocl_*.cpp implementation only (the definition lives in kernels/ocl_cl.hpp).
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Host <-> device copy bandwidth on `ctx`, GB/s (1e9 bytes/s): median of `repeats` copies of `bytes`, timed by
// the host clock around each blocking copy (what a frame loop sees), from pinned (mapped, page-locked) and from
// ordinary (pageable) host memory.
struct Bandwidth {
  double h2d_pinned_GBps = 0, h2d_pageable_GBps = 0, d2h_pinned_GBps = 0;
  size_t bytes = 0;
  int repeats = 0;
};
Bandwidth measure_bandwidth(DeviceContext& ctx, size_t bytes = size_t(64) << 20, int repeats = 20);

// "CL_OUT_OF_RESOURCES", "CL_BUILD_PROGRAM_FAILURE", ... ("CL error -9999" when unknown).
const char* error_name(int code);

}  // namespace xrd::ocl
