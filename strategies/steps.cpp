#include "strategies/steps.hpp"

#include <algorithm>

#include <tbb/task_arena.h>

#include "base/error.hpp"
#include "strategies/engines.hpp"

namespace xrd::strategies {

void acquire_frame(const RunContext& ctx, size_t frame) {
  if (!ctx.source->acquire(frame)) throw Error(ctx.source->origin(frame), "", "dropped by the paced source");
}

void load_frame(const RunContext& ctx, size_t frame, int thread, FrameBuffer& fb) {
  acquire_frame(ctx, frame);
  double t = ctx.now();
  ctx.source->load(frame, fb);
  ctx.add(Stage::read, t, frame, thread);
  check_shape(ctx, fb);
  if (ctx.opt.verify_md5) {
    t = ctx.now();
    try {
      frames::verify_md5(fb);
    } catch (...) {
      ctx.add(Stage::md5, t, frame, thread);
      throw;
    }
    ctx.add(Stage::md5, t, frame, thread);
  }
}

void check_shape(const RunContext& ctx, const FrameBuffer& fb) {
  const auto& csr = ctx.setup->csr;
  if (fb.width != csr.width || fb.height != csr.height)
    throw Error(fb.origin, "",
                "frame is " + std::to_string(fb.width) + " x " + std::to_string(fb.height) +
                    " pixels, the dataset's geometry is for " + std::to_string(csr.width) + " x " +
                    std::to_string(csr.height));
}

void prefetch(const RunContext& ctx, size_t frame) {
  if (frame < ctx.frames()) ctx.source->prefetch(frame);
}

void decode_frame(const RunContext& ctx, int thread, const FrameBuffer& fb, std::vector<int32_t>& image,
                  bool reference) {
  const double t = ctx.now();
  image.resize(fb.pixels());
  frames::decode(fb, image, reference);
  ctx.add(Stage::decode, t, fb.index, thread);
}

void deliver(const RunContext& ctx, size_t frame, int thread, const integration::Pattern& p) {
  const double t = ctx.now();
  ctx.sink->pattern(frame, p);
  ctx.add(Stage::write, t, frame, thread);
}

void deliver_error(const RunContext& ctx, size_t frame, int thread, const std::string& reason) {
  const double t = ctx.now();
  if (ctx.source->dropped(frame))
    ctx.sink->dropped(frame);
  else
    ctx.sink->error(frame, ctx.source->origin(frame), reason);
  ctx.add(Stage::write, t, frame, thread);
}

std::string engine_name(const RunContext& ctx) {
  if (!ctx.opt.engine.empty()) return ctx.opt.engine;
  if (ctx.opt.integrator == Integrator::gpu) return "opencl";
  return ctx.opt.reference ? "reference" : "fast";
}

std::unique_ptr<integration::Engine> make_engine(const RunContext& ctx, int threads) {
  const std::string name = engine_name(ctx);
  integration::EngineConfig config;
  config.threads = threads;
  if (find_engine(name).needs_device) {
    config.device = &require_device(ctx, ctx.opt.integrator == Integrator::gpu ? "gpu integration" : "the opencl engine");
    config.max_frame_bytes = ctx.source->max_frame_bytes();
  }
  return strategies::make_engine(name, *ctx.setup, config);
}

Kernels host_kernels(const RunContext& ctx, const integration::Engine& engine, bool reference_decoder) {
  return {frames::decoder_name(ctx.codec, reference_decoder), engine.name(), engine.variant()};
}

HostIntegrator::HostIntegrator() = default;
HostIntegrator::~HostIntegrator() = default;

void HostIntegrator::prepare(const RunContext& ctx) {
  ws_.reset();
  arena_.reset();
  engine_ = make_engine(ctx, ctx.opt.threads);
  ws_ = engine_->make_workspace();
  if (ctx.opt.threads > 0) arena_ = std::make_unique<tbb::task_arena>(ctx.opt.threads);
}

void HostIntegrator::integrate(const RunContext& ctx, size_t frame, int thread, std::span<const int32_t> image,
                               integration::Pattern& out) {
  const double t = ctx.now();
  if (arena_)
    arena_->execute([&] { engine_->integrate(image, out, ws_.get()); });
  else
    engine_->integrate(image, out, ws_.get());
  ctx.add(Stage::integrate, t, frame, thread);
}

void require_device_codec(const FrameBuffer& fb) {
  if (fb.codec != frames::Codec::byte_offset)
    throw Error(fb.origin, "", std::string("codec ") + frames::to_string(fb.codec) +
                                   " has no OpenCL decoder: use a CPU strategy for these frames");
}

ocl::DeviceContext& require_device(const RunContext& ctx, const char* strategy) {
  if (!ctx.device) throw Error("", "", std::string(strategy) + " needs an OpenCL device (--device opencl...)");
  return *ctx.device;
}

std::string failure_reason(const std::exception& e) {
  if (auto* x = dynamic_cast<const Error*>(&e)) {
    // The sink gets the file separately: keep "where: what" only.
    return x->where().empty() ? x->reason() : x->where() + ": " + x->reason();
  }
  return e.what();
}

}  // namespace xrd::strategies
