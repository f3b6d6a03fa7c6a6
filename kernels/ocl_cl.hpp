// Internal to kernels/ocl_*.cpp: the Khronos C++ bindings configured once (OpenCL 1.2 API, exceptions on), the
// DeviceContext internals, the embedded kernel sources and the cl::Error -> xrd::Error translation.
#pragma once
#define CL_HPP_TARGET_OPENCL_VERSION 120
#define CL_HPP_MINIMUM_OPENCL_VERSION 120
#define CL_HPP_ENABLE_EXCEPTIONS
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
#include <CL/opencl.hpp>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <map>
#include <mutex>
#include <string>

#include "base/error.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::ocl {

struct DeviceContext::Impl {
  DeviceInfo info;
  cl::Device device;
  cl::Context context;
  cl::CommandQueue copy_queue;     // host -> device uploads
  cl::CommandQueue compute_queue;  // kernels and the (small) downloads
  std::mutex programs_mutex;
  std::map<std::string, cl::Program> programs;  // (source name + options) -> built program

  // The embedded source `name` (e.g. "byte_offset.cl") built with `options`, cached. Throws xrd::Error with the
  // build log when the compiler refuses it.
  cl::Program program(const std::string& name, const std::string& options);
  // Threads per work-group to use: `wanted` (0 = 256) clamped to the device's limit.
  size_t work_group(int wanted) const;
};

// The kernels/*.cl files embedded at build time (generated/ocl_sources.hpp); throws when `name` is unknown.
const std::string& kernel_source(const std::string& name);

// An xrd::Error for a failed OpenCL call: "OpenCL: clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES (-5)".
xrd::Error to_error(const cl::Error& e, const std::string& context = {});

// Milliseconds between the start of `from` and the end of `to` (0 when profiling information is unavailable).
double event_ms(const cl::Event& from, const cl::Event& to);

}  // namespace xrd::ocl
