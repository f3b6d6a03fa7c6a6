// The per-frame steps every strategy chains (read + parse, MD5, decode, hand to the sink), each timed into the
// profiler under its stage, with the buffers a thread reuses from frame to frame. Only glue: the work itself is
// datasets/cbf.hpp's and kernels/'s.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "kernels/integrate.hpp"
#include "strategies/strategy.hpp"

namespace xrd::ocl {
class Engine;
}

namespace xrd::strat {

// One frame's file bytes and the parsed view into them (valid until the next load into the same buffer).
struct FrameBuffer {
  size_t frame = 0;
  std::vector<uint8_t> bytes;
  cbf::CbfView view;
};

// Reads ctx.files[frame] (Stage::read), parses it, checks that its shape is the geometry's, and verifies its MD5
// when ctx.opt.verify_md5 (Stage::md5; a mismatch or an absent MD5 fails the frame). Throws xrd::Error naming the file.
void load_frame(const RunContext& ctx, size_t frame, int thread, FrameBuffer& fb);

// Decodes a loaded frame into `image` (resized to width*height; fast decoder unless `reference`) (Stage::decode).
void decode_frame(const RunContext& ctx, int thread, const FrameBuffer& fb, std::vector<int32_t>& image,
                  bool reference = false);

// Asks the kernel to start reading ctx.files[frame] into the page cache now, asynchronously (posix_fadvise
// WILLNEED), so that a later load_frame() finds it there: keeps the disk busy while the cores compute (cold runs).
// A no-op past the end; failures are ignored (a hint only).
void prefetch(const RunContext& ctx, size_t frame);

// Hands a pattern or an error to the sink (Stage::write). Callers serialize these calls.
void deliver(const RunContext& ctx, size_t frame, int thread, const integ::Pattern& p);
void deliver_error(const RunContext& ctx, size_t frame, int thread, const std::string& reason);

// Integrates images decoded on the host: on the CPU (the fast engine, or the plain reference CSR engine when
// ctx.opt.reference) or on the OpenCL device (ctx.opt.integrator == gpu: the paper's "CPU decode, GPU integrate").
// prepare() builds the engine once per row (uploads the matrix to the device); integrate() times Stage::integrate.
class HostIntegrator {
 public:
  HostIntegrator();
  ~HostIntegrator();
  void prepare(const RunContext& ctx);
  void integrate(const RunContext& ctx, size_t frame, int thread, std::span<const int32_t> image,
                 integ::Pattern& out);

 private:
  struct Cpu;
  std::unique_ptr<Cpu> cpu_;
  std::unique_ptr<ocl::Engine> gpu_;
};

// The largest file of the dataset (bounds a device's per-frame staging).
size_t max_file_bytes(const std::vector<std::filesystem::path>& files);

// Throws xrd::Error when a device strategy has no device.
ocl::DeviceContext& require_device(const RunContext& ctx, const char* strategy);

// The reason a frame failed, from the exception in flight (call inside a catch block): xrd::Error's text names
// the file already; other exceptions get their what().
std::string failure_reason(const std::exception& e);

}  // namespace xrd::strat
