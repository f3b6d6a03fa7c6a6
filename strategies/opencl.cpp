// opencl: the paper's GPU strategy. One thread reads and parses each file; the compressed payload goes to the
// device, which decodes, corrects and integrates it; only the pattern comes back. One frame at a time, as in the paper.
// Bitshuffle-LZ4 frames (NXmx) take the engine's bitshuffle-LZ4 path: the chunk as stored goes up, the image is
// decoded and integrated on the device.
#include "kernels/bslz4.hpp"
#include "kernels/ocl_engine.hpp"
#include "strategies/steps.hpp"

namespace xrd::strategies {
namespace {

class OpenCl : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    engine_ = std::make_unique<ocl::Engine>(require_device(ctx, "opencl"), *ctx.setup, ctx.source->max_frame_bytes(), 1);
    kernels_ = {"opencl", "opencl", engine_->context().name()};  // decoded and integrated on the device
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main (device decode + integrate)");
    const size_t pixels = ctx.setup->csr.width * ctx.setup->csr.height;
    for (size_t i = 0; i < ctx.frames() && !ctx.stopped(); ++i) {
      try {
        load_frame(ctx, i, 0, fb_);
        if (fb_.codec != frames::Codec::bitshuffle_lz4) require_device_codec(fb_);
      } catch (const std::exception& e) {
        deliver_error(ctx, i, 0, failure_reason(e));
        continue;
      }
      const double t = ctx.now();
      if (fb_.codec == frames::Codec::bitshuffle_lz4) {
        try {
          engine_->integrate_bslz4(fb_.payload, fb_.element, pattern_);
        } catch (const bslz4::StreamError& e) {
          deliver_error(ctx, i, 0,
                        failure_reason(Error(fb_.origin, Error::at_byte(fb_.payload_offset + e.offset()),
                                             std::string("bad bitshuffle-LZ4 chunk: ") + e.what())));
          continue;
        } catch (const std::exception& e) {
          deliver_error(ctx, i, 0, failure_reason(e));
          continue;
        }
        ctx.add(Stage::integrate, t, i, 0);
        deliver(ctx, i, 0, pattern_);
        continue;
      }
      ocl::Staging& s = engine_->staging();
      s.add(fb_.payload, pixels, fb_.element, fb_.origin, i);
      engine_->submit(s);
      engine_->complete(result_);
      ctx.add(Stage::integrate, t, i, 0);  // decode + integrate on the device, transfers included
      const ocl::FrameResult& r = result_.frames.at(0);
      if (r.error)
        deliver_error(ctx, i, 0, failure_reason(*r.error));
      else
        deliver(ctx, i, 0, r.pattern);
    }
  }

 private:
  std::unique_ptr<ocl::Engine> engine_;
  FrameBuffer fb_;
  ocl::BatchResult result_;
  integration::Pattern pattern_;
};

}  // namespace

std::unique_ptr<Strategy> make_opencl() { return std::make_unique<OpenCl>(); }

}  // namespace xrd::strategies
