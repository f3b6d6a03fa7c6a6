// opencl-batched: our device design. N reader threads read + parse files; the main thread packs their compressed
// payloads into pinned staging batches and keeps `depth` batches in flight on the device (upload, decode, integrate,
// patterns down) while the readers go on: the host side overlaps the device side and launches are amortized.
#include "kernels/ocl_engine.hpp"
#include "strategies/reader_pool.hpp"

namespace xrd::strat {
namespace {

class OpenClBatched : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    if (ctx.opt.readers < 1) ctx.opt.readers = 2;
    if (ctx.opt.batch < 1) ctx.opt.batch = 16;
    engine_ = std::make_unique<ocl::Engine>(require_device(ctx, "opencl-batched"), *ctx.setup,
                                            max_file_bytes(ctx.files), ctx.opt.batch);
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main (staging + device)");
    const size_t pixels = ctx.setup->csr.width * ctx.setup->csr.height;
    readers_.start(ctx, ctx.opt.readers, 2 * static_cast<size_t>(ctx.opt.readers) + 2, /*decode=*/false);
    InOrder out(ctx, 0);
    ocl::Staging* staging = nullptr;
    auto finish_one = [&] {
      const double t = ctx.now();
      engine_->complete(result_);
      ctx.add(Stage::integrate, t, result_.size() ? result_.frames[0].tag : 0, 0);
      for (size_t k = 0; k < result_.size(); ++k) {
        ocl::FrameResult& r = result_.frames[k];
        if (r.error)
          out.error(r.tag, failure_reason(*r.error));
        else
          out.pattern(r.tag, r.pattern);
      }
    };
    auto submit = [&] {
      engine_->submit(*staging);
      staging = nullptr;
      if (engine_->in_flight() == engine_->depth()) finish_one();
    };
    try {
      while (Slot* s = readers_.next(ctx, 0)) {
        if (!s->error.empty()) {
          out.error(s->frame, std::move(s->error));
          readers_.release(s);
          continue;
        }
        const double t = ctx.now();
        if (!staging) staging = &engine_->staging();
        if (staging->bytes_left() < s->fb.view.payload.size()) {
          submit();
          staging = &engine_->staging();
        }
        staging->add(s->fb.view.payload, pixels, s->fb.view.binary.element_type, ctx.files[s->frame].string(),
                     s->frame);
        ctx.add(Stage::read, t, s->frame, 0);  // the copy into pinned staging
        readers_.release(s);
        if (staging->size() == staging->capacity()) submit();
      }
      if (staging && staging->size() > 0) submit();
      while (engine_->in_flight() > 0) finish_one();
    } catch (...) {
      readers_.join();
      while (engine_->in_flight() > 0) engine_->complete(result_);
      throw;
    }
    readers_.join();
  }

 private:
  std::unique_ptr<ocl::Engine> engine_;
  ReaderPool readers_;
  ocl::BatchResult result_;
};

}  // namespace

std::unique_ptr<Strategy> make_opencl_batched() { return std::make_unique<OpenClBatched>(); }

}  // namespace xrd::strat
