// test-sleep-10ms: a test strategy of known cost. One thread reduces each frame as `sequential` does (so its output
// validates) and holds it until its 10 ms of service have passed: the realtime tests check pacing, latency, backlog,
// drops and --find-max against numbers known in advance (a server of exactly 100 frames/s).
// Service is scheduled, not measured: a frame's 10 ms start at its release (FrameSource::release_time) or when the
// previous frame's 10 ms end, whichever is later, so the scheduling delays of a loaded machine add latency but never
// pile up into a lower rate. The frame's reduction (read, decode, integrate) runs inside its 10 ms.
#include <chrono>
#include <thread>

#include "strategies/steps.hpp"

namespace xrd::strategies {
namespace {

class TestSleep : public Strategy {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kCost{10};

  void prepare(RunContext& ctx) override {
    integrator_.prepare(ctx);
    kernels_ = host_kernels(ctx, integrator_.engine(), false);
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main");
    auto free_at = clock::now();  // when the previous frame's service ended (on the schedule)
    for (size_t i = 0; i < ctx.frames() && !ctx.stopped(); ++i) {
      // Service starts at the release or when the previous frame's ended (a dropped frame: load_frame fails at once).
      const auto start = std::max(free_at, ctx.source->release_time(i));
      bool ok = true;
      std::string why;
      try {
        load_frame(ctx, i, 0, fb_);
      } catch (const std::exception& e) {
        deliver_error(ctx, i, 0, failure_reason(e));  // dropped (or unreadable): costs nothing
        continue;
      }
      try {
        decode_frame(ctx, 0, fb_, image_);
        integrator_.integrate(ctx, i, 0, image_, pattern_);
      } catch (const std::exception& e) {
        ok = false;
        why = failure_reason(e);
      }
      free_at = start + kCost;
      std::this_thread::sleep_until(free_at);
      if (ok)
        deliver(ctx, i, 0, pattern_);
      else
        deliver_error(ctx, i, 0, why);
    }
  }

 private:
  HostIntegrator integrator_;
  FrameBuffer fb_;
  std::vector<int32_t> image_;
  integration::Pattern pattern_;
};

}  // namespace

std::unique_ptr<Strategy> make_test_sleep() { return std::make_unique<TestSleep>(); }

}  // namespace xrd::strategies
