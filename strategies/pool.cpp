// pool: the paper's Fig. 3 design. N reader threads each claim the next frame index, read + parse + decode it into a
// buffer from a fixed set and queue it; the main thread integrates frames as they arrive (CPU or device) and hands
// the patterns to the sink in frame order (indices travel with the buffers).
#include "strategies/reader_pool.hpp"

namespace xrd::strategies {
namespace {

class Pool : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    if (ctx.opt.readers < 1) ctx.opt.readers = 2;
    integrator_.prepare(ctx);
    kernels_ = host_kernels(ctx, integrator_.engine(), false);
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main (integrate + write)");
    // One slot per reader at work plus one queued per reader: the main thread never starves while the readers
    // keep up, and memory stays bounded (a slot holds a file and a decoded image).
    readers_.start(ctx, ctx.opt.readers, 2 * static_cast<size_t>(ctx.opt.readers), /*decode=*/true);
    InOrder out(ctx, 0);
    while (Slot* s = readers_.next(ctx, 0)) {
      if (!s->error.empty()) {
        out.error(s->frame, std::move(s->error));
      } else {
        bool ok = true;
        try {
          integrator_.integrate(ctx, s->frame, 0, s->image, pattern_);
        } catch (const std::exception& e) {
          ok = false;
          out.error(s->frame, failure_reason(e));
        }
        if (ok) out.pattern(s->frame, pattern_);
      }
      readers_.release(s);
    }
    readers_.join();
  }

 private:
  HostIntegrator integrator_;
  ReaderPool readers_;
  integration::Pattern pattern_;
};

}  // namespace

std::unique_ptr<Strategy> make_pool() { return std::make_unique<Pool>(); }

}  // namespace xrd::strategies
