// sequential: one thread reads, decodes (CPU) and integrates (CPU or device) each frame in turn (the paper's
// baseline). With opt.reference it is the reference every row is validated against: scalar decoder, plain CSR.
#include "base/error.hpp"
#include "strategies/steps.hpp"

namespace xrd::strategies {
namespace {

class Sequential : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    integrator_.prepare(ctx);
    kernels_ = host_kernels(ctx, integrator_.engine(), ctx.opt.reference);
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main");
    for (size_t i = 0; i < ctx.frames() && !ctx.stopped(); ++i) {
      try {
        load_frame(ctx, i, 0, fb_);
        decode_frame(ctx, 0, fb_, image_, ctx.opt.reference);
        integrator_.integrate(ctx, i, 0, image_, pattern_);
      } catch (const std::exception& e) {
        deliver_error(ctx, i, 0, failure_reason(e));
        continue;
      }
      deliver(ctx, i, 0, pattern_);
    }
  }

 private:
  HostIntegrator integrator_;
  FrameBuffer fb_;
  std::vector<int32_t> image_;
  integration::Pattern pattern_;
};

}  // namespace

std::unique_ptr<Strategy> make_sequential() { return std::make_unique<Sequential>(); }

}  // namespace xrd::strategies
