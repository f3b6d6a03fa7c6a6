// test-sleep-10ms: a test strategy of known cost. One thread takes each frame when it is released, reduces it as
// `sequential` does (so its output validates), then sleeps until 10 ms after it started on the frame: every frame
// costs 10 ms (a little more on a loaded machine, never less), whatever the dataset. The realtime tests use it to
// check pacing, latency, backlog, drops and --find-max against numbers known in advance (100 frames/s at most).
#include <chrono>
#include <thread>

#include "strategies/steps.hpp"

namespace xrd::strat {
namespace {

class TestSleep : public Strategy {
 public:
  static constexpr std::chrono::milliseconds kCost{10};

  void prepare(RunContext& ctx) override { integrator_.prepare(ctx); }

  void run(RunContext& ctx) override {
    if (ctx.profiler) ctx.profiler->set_thread_name(0, "main");
    for (size_t i = 0; i < ctx.frames() && !ctx.stopped(); ++i) {
      bool ok = true;
      std::string why;
      // Wait for the release first: the 10 ms count from there and cover reading the frame too (a dropped frame:
      // load_frame below fails at once and the sink hears of the drop).
      ctx.source->acquire(i);
      const auto start = std::chrono::steady_clock::now();
      try {
        load_frame(ctx, i, 0, fb_);  // the frame is released: no wait here
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
      std::this_thread::sleep_until(start + kCost);
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
  integ::Pattern pattern_;
};

}  // namespace

std::unique_ptr<Strategy> make_test_sleep() { return std::make_unique<TestSleep>(); }

}  // namespace xrd::strat
