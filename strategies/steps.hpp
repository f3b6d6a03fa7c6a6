// The per-frame steps every strategy chains (read + parse, MD5, decode, hand to the sink), each timed into the
// profiler under its stage, with the buffers a thread reuses from frame to frame. Only glue: the work itself is
// datasets/cbf.hpp's and kernels/'s.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "datasets/frame_source.hpp"
#include "kernels/integrate.hpp"
#include "kernels/integrate_engine.hpp"
#include "strategies/strategy.hpp"

namespace xrd::strategies {

// One frame's encoded bytes, codec and shape (valid until the next load into the same buffer).
using FrameBuffer = frames::EncodedFrame;

// Loads frame `frame` from ctx.source (Stage::read), checks that its shape is the geometry's, and verifies its MD5
// when ctx.opt.verify_md5 (Stage::md5; a mismatch or an absent MD5 fails the frame). Throws xrd::Error naming the
// frame's origin (its file).
void load_frame(const RunContext& ctx, size_t frame, int thread, FrameBuffer& fb);

// Paced sources: waits for the frame's release (untimed: the stages time work, not the detector's clock). A dropped
// frame throws here, and deliver_error() hands it to the sink as dropped. load_frame() calls it first.
void acquire_frame(const RunContext& ctx, size_t frame);

// Decodes a loaded frame into `image` (resized to width*height; its codec's fast kernel unless `reference`)
// (Stage::decode).
void decode_frame(const RunContext& ctx, int thread, const FrameBuffer& fb, std::vector<int32_t>& image,
                  bool reference = false);

// Throws xrd::Error naming the frame when its shape is not the geometry's (load_frame() checks it).
void check_shape(const RunContext& ctx, const FrameBuffer& fb);

// Asks the source to start reading frame `frame` now (CBF files: posix_fadvise WILLNEED into the page cache), so that
// a later load_frame() finds it there: keeps the disk busy while the cores compute (cold runs). A no-op past the end;
// failures are ignored (a hint only).
void prefetch(const RunContext& ctx, size_t frame);

// Hands a pattern or an error to the sink (Stage::write). Callers serialize these calls.
void deliver(const RunContext& ctx, size_t frame, int thread, const integration::Pattern& p);
void deliver_error(const RunContext& ctx, size_t frame, int thread, const std::string& reason);

// The engine (strategies/engines.hpp) that integrates images decoded on the host: ctx.opt.engine when given, else
// the plain reference CSR engine (ctx.opt.reference), opencl (ctx.opt.integrator == gpu: the paper's "CPU decode,
// GPU integrate") or fast.
std::string engine_name(const RunContext& ctx);
// Builds engine_name(ctx) for ctx.setup: its layout with `threads` threads (0: every core); opencl on ctx.device
// (throws xrd::Error when there is none), its staging sized by the source's max_frame_bytes().
std::unique_ptr<integration::Engine> make_engine(const RunContext& ctx, int threads);
// What a strategy that decodes on the CPU (the scalar reference decoder when `reference_decoder`) and integrates
// with `engine` reports (Strategy::kernels()).
Kernels host_kernels(const RunContext& ctx, const integration::Engine& engine, bool reference_decoder);

// Integrates images decoded on the host with make_engine(ctx) on one thread at a time (sequential, pool; parallel
// engines spread each frame over ctx.opt.threads cores). prepare() builds the engine once per row (uploads the matrix
// to a device); integrate() times Stage::integrate.
class HostIntegrator {
 public:
  HostIntegrator();
  ~HostIntegrator();
  void prepare(const RunContext& ctx);
  void integrate(const RunContext& ctx, size_t frame, int thread, std::span<const int32_t> image,
                 integration::Pattern& out);
  const integration::Engine& engine() const { return *engine_; }

 private:
  std::unique_ptr<integration::Engine> engine_;
  std::unique_ptr<integration::Engine::Workspace> ws_;
  std::unique_ptr<tbb::task_arena> arena_;  // when the threads are limited
};

// Throws xrd::Error naming the frame when its codec has no OpenCL decoder (the device strategies decode there).
void require_device_codec(const FrameBuffer& fb);

// Throws xrd::Error when a device strategy has no device.
ocl::DeviceContext& require_device(const RunContext& ctx, const char* strategy);

// The reason a frame failed, from the exception in flight (call inside a catch block): xrd::Error's text names
// the file already; other exceptions get their what().
std::string failure_reason(const std::exception& e);

}  // namespace xrd::strategies
