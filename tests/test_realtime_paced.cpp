// The paced real-time mode against numbers known in advance: the test-sleep-10ms strategy costs 10 ms a frame
// (100 frames/s at most), so it keeps up at 50 Hz with ~10 ms latency, falls behind at 200 Hz with a backlog growing
// ~100 frames/s, drops exactly the frames a small buffer cannot hold in a burst, and --find-max lands near 100 Hz.
// The real strategies keep up on a tiny dataset at a low rate and validate; opencl-batched's flush timeout keeps a
// partial batch from waiting for frames that have not arrived. Tolerances are wide (a loaded 2-core machine): the
// verdicts tested are far from their boundaries.
#include <catch2/catch.hpp>

#include "harness/realtime.hpp"
#include "harness/runner.hpp"
#include "kernels/ocl_device.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using namespace xrd::harness;
namespace realtime = xrd::harness::realtime;

namespace {

struct Fixture {
  std::filesystem::path dir;  // before ds: initialized first
  Dataset ds;
  std::unique_ptr<Runner> runner;
  const PatternSet* ref = nullptr;
  explicit Fixture(const std::string& name, size_t frames = 5)
      : dir(test::make_tiny_dataset(name, frames)), ds(test::load_tiny(dir)) {
    RunnerOptions o;
    o.quiet = true;
    o.write = false;
    runner = std::make_unique<Runner>(ds, o, nullptr, nullptr, nullptr);
    ref = &runner->reference();
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  RowSpec spec(const std::string& strategy) const {
    RowSpec s;
    s.strategy = strategy;
    s.opt.readers = strategies::find_strategy(strategy).uses_readers ? 2 : 0;
    return s;
  }
};

}  // namespace

TEST_CASE("realtime: test-sleep keeps up at 50 Hz with ~10 ms latency, validated") {
  Fixture f("rt_keep");
  realtime::Session s(f.ds, f.spec("test-sleep-10ms"), nullptr, *f.ref, nullptr);
  const realtime::Trial t = s.run(50, 60, 1000, 500);
  INFO("p50 " << t.latency.p50 << " p99 " << t.latency.p99 << " growth " << t.growth_fps);
  CHECK(t.keeps_up);
  CHECK(t.reasons.empty());
  CHECK(t.dropped == 0);
  CHECK(t.reduced == 60);
  CHECK_FALSE(t.growing);
  CHECK(t.backlog_max <= 3);
  CHECK(t.latency.p50 >= 9.9);   // the cost: never less than 10 ms
  CHECK(t.latency.p50 < 30);     // ~10 ms, with room for a loaded machine's wake-up delays
  CHECK(t.latencies_ms.size() == 60);
  CHECK(t.achieved_hz == Approx(50).epsilon(0.1));
  CHECK(t.validated);
  CHECK(t.invalid_reasons.empty());
  CHECK(t.frames_compared == 60);
  REQUIRE(t.headroom_ms);
  CHECK(*t.headroom_ms == Approx(500 - t.latency.p99));
}

TEST_CASE("realtime: test-sleep falls behind at 200 Hz with a growing backlog") {
  Fixture f("rt_behind");
  realtime::Session s(f.ds, f.spec("test-sleep-10ms"), nullptr, *f.ref, nullptr);
  const realtime::Trial t = s.run(200, 200, 100000, 500);
  INFO("growth " << t.growth_fps << " backlog max " << t.backlog_max << " p99 " << t.latency.p99);
  CHECK_FALSE(t.keeps_up);
  CHECK(t.growing);
  CHECK(t.dropped == 0);
  // Arrivals 200/s, service <= 100/s: the backlog grows ~100 frames/s (less service on a loaded machine: more).
  CHECK(t.growth_fps > 60);
  CHECK(t.growth_fps < 160);
  CHECK(t.backlog_max > 70);
  CHECK(t.latency.max > 400);  // the last frame waits ~0.5 s behind the first 100
  REQUIRE(t.time_to_full_s);
  CHECK(*t.time_to_full_s == Approx(100000 / t.growth_fps));
  CHECK(t.validated);
}

TEST_CASE("realtime: a small buffer drops exactly the frames it cannot hold") {
  Fixture f("rt_drop");
  realtime::Session s(f.ds, f.spec("test-sleep-10ms"), nullptr, *f.ref, nullptr);
  // 20 frames released within 2 ms into a 5-frame buffer; the first frame takes 10 ms: frames 0-4 are held,
  // 5-19 find the buffer full and are dropped.
  const realtime::Trial t = s.run(10000, 20, 5, 500);
  CHECK(t.dropped == 15);
  CHECK(t.reduced == 5);
  CHECK(t.failed == 0);
  CHECK_FALSE(t.keeps_up);
  REQUIRE(t.first_drop_s);
  CHECK(*t.first_drop_s == Approx(5.0 / 10000));
  CHECK(t.backlog_max == 5);
  CHECK(t.invalid_reasons.empty());  // the sink saw the 15 as dropped, not failed; the 5 validate
  CHECK(t.validated);
  CHECK(t.frames_compared == 5);

  // A buffer of one frame at a rate it can follow (10 ms of work every 100 ms): nothing dropped.
  const realtime::Trial ok = s.run(10, 10, 1, 500);
  CHECK(ok.dropped == 0);
  CHECK(ok.keeps_up);
}

TEST_CASE("realtime: the paced source never releases a frame early and decides drops from recorded times") {
  Fixture f("rt_source", 3);
  realtime::PacedSource src(*f.ds.source, 10, 7, 2);  // a frame every 100 ms, 2 held at most
  CHECK(src.size() == 7);
  CHECK(src.origin(4).find("frame_00001.cbf (stream frame 4)") != std::string::npos);
  src.start();
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(src.acquire(i) == (i < 2));  // nothing done yet: frame 2 finds 2 frames held
    CHECK(src.now_s() >= double(i) / 10);
  }
  src.done(0);            // at ~200 ms
  CHECK(src.acquire(3));  // frame 0 left before frame 3 (300 ms) was released
  CHECK(src.dropped(2));
  CHECK_FALSE(src.dropped(3));
  frames::EncodedFrame fr;
  src.load(4, fr);
  CHECK(fr.index == 4);
  CHECK(fr.width == test::kTinyW);
  CHECK_THROWS_WITH(realtime::PacedSource(*f.ds.source, -1, 5, 1), Catch::Contains("--rate"));
}

TEST_CASE("realtime: --find-max lands within 15% of test-sleep's 100 Hz") {
  Fixture f("rt_findmax");
  realtime::Session s(f.ds, f.spec("test-sleep-10ms"), nullptr, *f.ref, nullptr);
  const realtime::FindMax m = realtime::find_max(s, 1.5, 100000, 500);
  INFO("max " << m.max_rate_hz << " bracket " << m.lo_hz << " .. " << m.hi_hz << " batch " << m.batch_fps);
  CHECK(m.batch_fps > 85);
  CHECK(m.batch_fps <= 100.5);
  CHECK(m.max_rate_hz > 85);
  CHECK(m.max_rate_hz < 115);
  CHECK(m.lo_hz == m.max_rate_hz);
  CHECK(m.hi_hz > m.lo_hz);
  CHECK(m.hi_hz / m.lo_hz < 1.3);
  CHECK(m.ratio_to_batch == Approx(m.max_rate_hz / m.batch_fps));
  CHECK(m.trials.size() >= 3);
  bool some_stable = false, some_unstable = false;
  for (auto& t : m.trials) (t.keeps_up ? some_stable : some_unstable) = true;
  CHECK(some_stable);
  CHECK(some_unstable);
}

TEST_CASE("realtime: every real strategy keeps up on a tiny dataset at a low rate, validated") {
  Fixture f("rt_real");
  std::unique_ptr<ocl::DeviceContext> dev;
  if (!ocl::list_devices().empty()) dev = std::make_unique<ocl::DeviceContext>("opencl");
  for (auto& info : strategies::strategies()) {
    if (info.test) continue;
    if (info.needs_device && !dev) continue;
    RowSpec spec = f.spec(info.name);
    spec.opt.flush_ms = 5;
    realtime::Session s(f.ds, spec, info.needs_device ? dev.get() : nullptr, *f.ref, nullptr);
    const realtime::Trial t = s.run(40, 30, 1000, 500);
    INFO(info.name << ": p99 " << t.latency.p99 << " reasons " << (t.reasons.empty() ? "" : t.reasons[0])
                   << (t.invalid_reasons.empty() ? "" : t.invalid_reasons[0]));
    CHECK(t.keeps_up);
    CHECK(t.validated);
    CHECK(t.reduced == 30);
    CHECK(t.dropped == 0);
  }
}

TEST_CASE("realtime: opencl-batched flushes a partial batch after --flush-ms instead of waiting for 16 frames") {
  if (ocl::list_devices().empty()) {
    WARN("no OpenCL device: skipped");
    return;
  }
  Fixture f("rt_flush");
  ocl::DeviceContext dev("opencl");
  RowSpec spec = f.spec("opencl-batched");
  spec.opt.batch = 16;
  spec.opt.flush_ms = 2;
  realtime::Session flushing(f.ds, spec, &dev, *f.ref, nullptr);
  const realtime::Trial a = flushing.run(50, 32, 1000, 1000);
  spec.opt.flush_ms = -1;  // wait for full batches: the first frame of each waits for 15 more (300 ms at 50 Hz)
  realtime::Session waiting(f.ds, spec, &dev, *f.ref, nullptr);
  const realtime::Trial b = waiting.run(50, 32, 1000, 1000);
  INFO("flush p50 " << a.latency.p50 << " / full batches p50 " << b.latency.p50 << " max " << b.latency.max);
  CHECK(a.latency.p50 < 100);
  CHECK(b.latency.max > 250);
  CHECK(b.latency.p50 > a.latency.p50 + 50);
  CHECK(a.validated);
  CHECK(b.validated);
}
