// OpenCL device discovery, the --device spec, the context RAII class, program building and error names.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <sstream>

#include "generated/ocl_sources.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl {

const char* error_name(int code) {
  switch (code) {
#define XRD_CL_ERR(x) \
  case x: return #x;
    XRD_CL_ERR(CL_SUCCESS)
    XRD_CL_ERR(CL_DEVICE_NOT_FOUND)
    XRD_CL_ERR(CL_DEVICE_NOT_AVAILABLE)
    XRD_CL_ERR(CL_COMPILER_NOT_AVAILABLE)
    XRD_CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    XRD_CL_ERR(CL_OUT_OF_RESOURCES)
    XRD_CL_ERR(CL_OUT_OF_HOST_MEMORY)
    XRD_CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE)
    XRD_CL_ERR(CL_MEM_COPY_OVERLAP)
    XRD_CL_ERR(CL_IMAGE_FORMAT_MISMATCH)
    XRD_CL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    XRD_CL_ERR(CL_BUILD_PROGRAM_FAILURE)
    XRD_CL_ERR(CL_MAP_FAILURE)
    XRD_CL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    XRD_CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    XRD_CL_ERR(CL_COMPILE_PROGRAM_FAILURE)
    XRD_CL_ERR(CL_LINKER_NOT_AVAILABLE)
    XRD_CL_ERR(CL_LINK_PROGRAM_FAILURE)
    XRD_CL_ERR(CL_DEVICE_PARTITION_FAILED)
    XRD_CL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    XRD_CL_ERR(CL_INVALID_VALUE)
    XRD_CL_ERR(CL_INVALID_DEVICE_TYPE)
    XRD_CL_ERR(CL_INVALID_PLATFORM)
    XRD_CL_ERR(CL_INVALID_DEVICE)
    XRD_CL_ERR(CL_INVALID_CONTEXT)
    XRD_CL_ERR(CL_INVALID_QUEUE_PROPERTIES)
    XRD_CL_ERR(CL_INVALID_COMMAND_QUEUE)
    XRD_CL_ERR(CL_INVALID_HOST_PTR)
    XRD_CL_ERR(CL_INVALID_MEM_OBJECT)
    XRD_CL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    XRD_CL_ERR(CL_INVALID_IMAGE_SIZE)
    XRD_CL_ERR(CL_INVALID_SAMPLER)
    XRD_CL_ERR(CL_INVALID_BINARY)
    XRD_CL_ERR(CL_INVALID_BUILD_OPTIONS)
    XRD_CL_ERR(CL_INVALID_PROGRAM)
    XRD_CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE)
    XRD_CL_ERR(CL_INVALID_KERNEL_NAME)
    XRD_CL_ERR(CL_INVALID_KERNEL_DEFINITION)
    XRD_CL_ERR(CL_INVALID_KERNEL)
    XRD_CL_ERR(CL_INVALID_ARG_INDEX)
    XRD_CL_ERR(CL_INVALID_ARG_VALUE)
    XRD_CL_ERR(CL_INVALID_ARG_SIZE)
    XRD_CL_ERR(CL_INVALID_KERNEL_ARGS)
    XRD_CL_ERR(CL_INVALID_WORK_DIMENSION)
    XRD_CL_ERR(CL_INVALID_WORK_GROUP_SIZE)
    XRD_CL_ERR(CL_INVALID_WORK_ITEM_SIZE)
    XRD_CL_ERR(CL_INVALID_GLOBAL_OFFSET)
    XRD_CL_ERR(CL_INVALID_EVENT_WAIT_LIST)
    XRD_CL_ERR(CL_INVALID_EVENT)
    XRD_CL_ERR(CL_INVALID_OPERATION)
    XRD_CL_ERR(CL_INVALID_GL_OBJECT)
    XRD_CL_ERR(CL_INVALID_BUFFER_SIZE)
    XRD_CL_ERR(CL_INVALID_MIP_LEVEL)
    XRD_CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE)
    XRD_CL_ERR(CL_INVALID_PROPERTY)
    XRD_CL_ERR(CL_INVALID_IMAGE_DESCRIPTOR)
    XRD_CL_ERR(CL_INVALID_COMPILER_OPTIONS)
    XRD_CL_ERR(CL_INVALID_LINKER_OPTIONS)
    XRD_CL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef XRD_CL_ERR
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL platform: is an ICD installed?)";
    default: return "unknown OpenCL error";
  }
}

xrd::Error to_error(const cl::Error& e, const std::string& context) {
  std::string what = std::string(e.what() ? e.what() : "OpenCL call") + " failed: " + error_name(e.err()) + " (" +
                     std::to_string(e.err()) + ")";
  return xrd::Error("", context.empty() ? "OpenCL" : "OpenCL " + context, what);
}

double event_ms(const cl::Event& from, const cl::Event& to) {
  try {
    cl_ulong a = from.getProfilingInfo<CL_PROFILING_COMMAND_START>();
    cl_ulong b = to.getProfilingInfo<CL_PROFILING_COMMAND_END>();
    return b > a ? double(b - a) * 1e-6 : 0.0;
  } catch (const cl::Error&) {
    return 0.0;
  }
}

const std::string& kernel_source(const std::string& name) {
  static const std::map<std::string, std::string> sources = [] {
    std::map<std::string, std::string> m;
    for (const auto& s : generated::ocl_sources) m.emplace(s.name, s.text);
    return m;
  }();
  auto it = sources.find(name);
  if (it == sources.end()) throw xrd::Error("", "OpenCL", "no embedded kernel source named " + name);
  return it->second;
}

std::string DeviceInfo::id() const {
  return "opencl:" + std::to_string(platform_index) + ":" + std::to_string(device_index);
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\0' || std::isspace(static_cast<unsigned char>(s.back())))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

DeviceInfo describe(const cl::Platform& p, const cl::Device& d, int pi, int di) {
  DeviceInfo i;
  i.platform_index = pi;
  i.device_index = di;
  i.platform = trim(p.getInfo<CL_PLATFORM_NAME>());
  i.platform_version = trim(p.getInfo<CL_PLATFORM_VERSION>());
  i.name = trim(d.getInfo<CL_DEVICE_NAME>());
  i.vendor = trim(d.getInfo<CL_DEVICE_VENDOR>());
  i.driver = trim(d.getInfo<CL_DRIVER_VERSION>());
  i.version = trim(d.getInfo<CL_DEVICE_VERSION>());
  cl_device_type t = d.getInfo<CL_DEVICE_TYPE>();
  i.type = (t & CL_DEVICE_TYPE_GPU)           ? "GPU"
           : (t & CL_DEVICE_TYPE_CPU)         ? "CPU"
           : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "ACCELERATOR"
                                              : "OTHER";
  i.is_gpu = (t & CL_DEVICE_TYPE_GPU) != 0;
  i.compute_units = d.getInfo<CL_DEVICE_MAX_COMPUTE_UNITS>();
  i.clock_mhz = d.getInfo<CL_DEVICE_MAX_CLOCK_FREQUENCY>();
  i.global_mem_bytes = d.getInfo<CL_DEVICE_GLOBAL_MEM_SIZE>();
  i.max_alloc_bytes = d.getInfo<CL_DEVICE_MAX_MEM_ALLOC_SIZE>();
  i.local_mem_bytes = d.getInfo<CL_DEVICE_LOCAL_MEM_SIZE>();
  i.max_work_group_size = d.getInfo<CL_DEVICE_MAX_WORK_GROUP_SIZE>();
  i.fp64 = d.getInfo<CL_DEVICE_EXTENSIONS>().find("cl_khr_fp64") != std::string::npos;
  return i;
}

// Platforms and their devices, in a stable order; empty when there is no ICD.
struct Found {
  std::vector<cl::Platform> platforms;
  std::vector<std::vector<cl::Device>> devices;
};
Found find_all() {
  Found f;
  try {
    cl::Platform::get(&f.platforms);
  } catch (const cl::Error&) {
    f.platforms.clear();  // CL_PLATFORM_NOT_FOUND_KHR: no ICD
  }
  for (auto& p : f.platforms) {
    std::vector<cl::Device> ds;
    try {
      p.getDevices(CL_DEVICE_TYPE_ALL, &ds);
    } catch (const cl::Error&) {
      ds.clear();  // CL_DEVICE_NOT_FOUND
    }
    f.devices.push_back(std::move(ds));
  }
  return f;
}

bool is_index(const std::string& s, int& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= 0;
}

bool matches(const std::string& sel, int index, const std::string& name) {
  if (sel.empty()) return true;
  int k;
  if (is_index(sel, k)) return k == index;
  return lower(name).find(lower(sel)) != std::string::npos;
}

std::string available(const std::vector<DeviceInfo>& all) {
  if (all.empty()) return "no OpenCL device is available (no platform found: install an ICD, e.g. pocl-opencl-icd)";
  std::string s = "available devices:";
  for (auto& d : all) s += "\n  " + d.id() + "  [" + d.platform + "] " + d.name + " (" + d.type + ")";
  return s;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  try {
    Found f = find_all();
    for (size_t p = 0; p < f.platforms.size(); ++p)
      for (size_t d = 0; d < f.devices[p].size(); ++d)
        out.push_back(describe(f.platforms[p], f.devices[p][d], int(p), int(d)));
  } catch (const cl::Error&) {
    // A broken driver must not stop `devices` or results JSON; what was listed so far stands.
  }
  return out;
}

DeviceSpec parse_device_spec(const std::string& text, int local_rank) {
  DeviceSpec spec;
  spec.text = text;
  const std::string t = lower(trim(text));
  if (t == "cpu") return spec;
  if (t.rfind("opencl", 0) != 0 || (t.size() > 6 && t[6] != ':'))
    throw xrd::Error("", "option --device", "'" + text + "' is not a device: expected cpu, opencl, "
                     "opencl:PLATFORM or opencl:PLATFORM:DEVICE (indices or name substrings, see `xrdbench devices`)");
  spec.kind = DeviceSpec::Kind::opencl;
  std::string rest = t.size() > 7 ? trim(text).substr(7) : "";
  auto colon = rest.find(':');
  spec.platform_sel = trim(rest.substr(0, colon));
  if (colon != std::string::npos) {
    spec.device_sel = trim(rest.substr(colon + 1));
    if (spec.device_sel.find(':') != std::string::npos)
      throw xrd::Error("", "option --device", "'" + text + "' has too many ':' (expected opencl:PLATFORM:DEVICE)");
  }
  // `local-rank` and `all` choose among the devices of a platform (any platform when they stand alone).
  const auto many = [](const std::string& sel) { return lower(sel) == "local-rank" || lower(sel) == "all"; };
  std::string many_sel;
  if (many(spec.platform_sel) && spec.device_sel.empty()) std::swap(spec.platform_sel, spec.device_sel);
  if (many(spec.device_sel)) many_sel = lower(spec.device_sel);
  auto all = list_devices();
  // Device indices count within their platform; without a device selector prefer a GPU.
  std::vector<const DeviceInfo*> hits;
  for (auto& d : all)
    if (matches(spec.platform_sel, d.platform_index, d.platform + " " + d.platform_version) &&
        (!many_sel.empty() || matches(spec.device_sel, d.device_index, d.name + " " + d.vendor)))
      hits.push_back(&d);
  if (hits.empty())
    throw xrd::Error("", "option --device", "no OpenCL device matches '" + text + "'; " + available(all));
  if (!many_sel.empty()) {
    // The GPUs among the hits, or every hit when there is none.
    std::vector<const DeviceInfo*> gpus;
    for (auto* h : hits)
      if (h->is_gpu) gpus.push_back(h);
    if (!gpus.empty()) hits = gpus;
    if (many_sel == "all") {
      if (gpus.empty()) hits.resize(1);  // no GPU: one device, as `opencl` (several CPU devices share the cores)
      for (auto* h : hits) spec.all.push_back(*h);
      spec.device = *hits.front();
    } else {
      if (local_rank < 0) {
        const char* v = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
        local_rank = v ? std::max(0, std::atoi(v)) : 0;
      }
      spec.device = *hits[static_cast<size_t>(local_rank) % hits.size()];
    }
    return spec;
  }
  const DeviceInfo* pick = hits.front();
  if (spec.device_sel.empty())
    for (auto* h : hits)
      if (h->is_gpu) {
        pick = h;
        break;
      }
  spec.device = *pick;
  return spec;
}

cl::Program DeviceContext::Impl::program(const std::string& name, const std::string& options) {
  std::lock_guard<std::mutex> lock(programs_mutex);
  const std::string key = name + "|" + options;
  auto it = programs.find(key);
  if (it != programs.end()) return it->second;
  cl::Program prog(context, kernel_source(name));
  try {
    prog.build(std::vector<cl::Device>{device}, options.c_str());
  } catch (const cl::Error& e) {
    std::string log;
    try {
      log = prog.getBuildInfo<CL_PROGRAM_BUILD_LOG>(device);
    } catch (const cl::Error&) {
      log = "(no build log)";
    }
    throw xrd::Error("", "OpenCL program " + name,
                     std::string("build failed on ") + info.name + ": " + error_name(e.err()) + " with options '" +
                         options + "'; build log:\n" + trim(log));
  }
  programs.emplace(key, prog);
  return prog;
}

size_t DeviceContext::Impl::work_group(int wanted) const {
  size_t w = wanted > 0 ? size_t(wanted) : 256;
  return std::max<size_t>(1, std::min(w, info.max_work_group_size));
}

DeviceContext::DeviceContext(const std::string& spec_text) : DeviceContext(parse_device_spec(spec_text)) {}

DeviceContext::DeviceContext(const DeviceSpec& spec) : impl_(std::make_unique<Impl>()) {
  if (!spec.is_opencl())
    throw xrd::Error("", "option --device", "'" + spec.text + "' is not an OpenCL device (expected opencl...)");
  try {
    Found f = find_all();
    const auto& d = spec.device;
    if (d.platform_index < 0 || size_t(d.platform_index) >= f.platforms.size() ||
        d.device_index < 0 || size_t(d.device_index) >= f.devices[d.platform_index].size())
      throw xrd::Error("", "option --device", "device " + d.id() + " disappeared; " + available(list_devices()));
    impl_->device = f.devices[d.platform_index][d.device_index];
    impl_->info = describe(f.platforms[d.platform_index], impl_->device, d.platform_index, d.device_index);
    impl_->context = cl::Context(impl_->device);
    impl_->copy_queue = cl::CommandQueue(impl_->context, impl_->device, CL_QUEUE_PROFILING_ENABLE);
    impl_->compute_queue = cl::CommandQueue(impl_->context, impl_->device, CL_QUEUE_PROFILING_ENABLE);
  } catch (const cl::Error& e) {
    throw to_error(e, "context on " + spec.text);
  }
}

DeviceContext::~DeviceContext() = default;
DeviceContext::DeviceContext(DeviceContext&&) noexcept = default;
DeviceContext& DeviceContext::operator=(DeviceContext&&) noexcept = default;

const DeviceInfo& DeviceContext::info() const { return impl_->info; }

}  // namespace xrd::ocl

namespace xrd::ocl {

Bandwidth measure_bandwidth(DeviceContext& ctx, size_t bytes, int repeats) {
  auto& c = ctx.impl();
  Bandwidth bw;
  bw.bytes = bytes;
  bw.repeats = repeats;
  auto median_GBps = [&](auto&& copy) {
    std::vector<double> s;
    copy();  // warm-up (first-touch, page pinning)
    for (int i = 0; i < repeats; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      copy();
      s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(s.begin(), s.end());
    return double(bytes) / s[s.size() / 2] * 1e-9;
  };
  try {
    auto& q = c.copy_queue;
    cl::Buffer dev(c.context, CL_MEM_READ_WRITE, bytes);
    cl::Buffer pinned(c.context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes);
    void* host = q.enqueueMapBuffer(pinned, CL_TRUE, CL_MAP_WRITE | CL_MAP_READ, 0, bytes);
    std::memset(host, 1, bytes);
    bw.h2d_pinned_GBps = median_GBps([&] { q.enqueueWriteBuffer(dev, CL_TRUE, 0, bytes, host); });
    bw.d2h_pinned_GBps = median_GBps([&] { q.enqueueReadBuffer(dev, CL_TRUE, 0, bytes, host); });
    std::vector<uint8_t> pageable(bytes, 2);
    bw.h2d_pageable_GBps = median_GBps([&] { q.enqueueWriteBuffer(dev, CL_TRUE, 0, bytes, pageable.data()); });
    q.enqueueUnmapMemObject(pinned, host);
    q.finish();
  } catch (const cl::Error& e) {
    throw to_error(e, "bandwidth on " + c.info.name);
  }
  return bw;
}

}  // namespace xrd::ocl
