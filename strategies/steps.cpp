#include "strategies/steps.hpp"

#include <algorithm>

#include <tbb/task_arena.h>

#include "base/error.hpp"
#include "kernels/integrate_fast.hpp"
#include "kernels/ocl_engine.hpp"

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

struct HostIntegrator::Cpu {
  const integration::Setup* setup = nullptr;
  bool reference = false;
  std::unique_ptr<integration::FastIntegrator> fast;
  integration::FastIntegrator::Workspace ws;
  std::unique_ptr<tbb::task_arena> arena;  // when the threads are limited
};

HostIntegrator::HostIntegrator() = default;
HostIntegrator::~HostIntegrator() = default;

void HostIntegrator::prepare(const RunContext& ctx) {
  cpu_.reset();
  gpu_.reset();
  if (ctx.opt.integrator == Integrator::gpu) {
    gpu_ = std::make_unique<ocl::Engine>(require_device(ctx, "gpu integration"), *ctx.setup, ctx.source->max_frame_bytes(),
                                         1);
    return;
  }
  cpu_ = std::make_unique<Cpu>();
  cpu_->setup = ctx.setup;
  cpu_->reference = ctx.opt.reference;
  if (!cpu_->reference) cpu_->fast = std::make_unique<integration::FastIntegrator>(*ctx.setup, ctx.opt.threads);
  if (ctx.opt.threads > 0) cpu_->arena = std::make_unique<tbb::task_arena>(ctx.opt.threads);
}

void HostIntegrator::integrate(const RunContext& ctx, size_t frame, int thread, std::span<const int32_t> image,
                               integration::Pattern& out) {
  const double t = ctx.now();
  if (gpu_) {
    gpu_->integrate(image, out);
  } else if (cpu_->reference) {
    integration::integrate(*cpu_->setup, image, out);
  } else if (cpu_->arena) {
    cpu_->arena->execute([&] { cpu_->fast->integrate(image, out, cpu_->ws); });
  } else {
    cpu_->fast->integrate(image, out, cpu_->ws);
  }
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
