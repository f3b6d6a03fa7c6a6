// StageProfiler: exact totals when several threads add at once, bounded event recording, per-frame ms, reset.
#include <catch2/catch.hpp>

#include <thread>

#include "base/profiler.hpp"

using namespace xrd;

TEST_CASE("stage names are the results.json keys", "[harness][profiler]") {
  std::vector<std::string> names;
  for (Stage s : kAllStages) names.push_back(stage_name(s));
  CHECK(names == std::vector<std::string>{"read", "md5", "decode", "integrate", "write", "wait"});
}

TEST_CASE("totals from several threads are exact", "[harness][profiler]") {
  StageProfiler p(4);
  constexpr int kThreads = 6, kEvents = 5000;  // more threads than slots: shared slots stay exact
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&p, t] {
      for (int i = 0; i < kEvents; ++i) {
        p.add(Stage::decode, i, i + 0.001, static_cast<size_t>(i), t);     // 1 ms each
        p.add(Stage::integrate, i, i + 0.0005, static_cast<size_t>(i), t);  // 0.5 ms each
      }
    });
  for (auto& t : ts) t.join();
  CHECK(p.count(Stage::decode) == kThreads * kEvents);
  CHECK(p.total_seconds(Stage::decode) == Approx(kThreads * kEvents * 0.001).epsilon(1e-9));
  CHECK(p.total_seconds(Stage::integrate) == Approx(kThreads * kEvents * 0.0005).epsilon(1e-9));
  CHECK(p.total_seconds(Stage::read) == 0.0);

  const auto ms = p.per_frame_ms(kEvents);  // per frame of the dataset, summed over threads
  CHECK(ms.size() == kStageCount);
  CHECK(ms.at("decode") == Approx(kThreads * 1.0));
  CHECK(ms.at("integrate") == Approx(kThreads * 0.5));
  CHECK(ms.at("wait") == 0.0);
  CHECK(p.per_frame_ms(0).at("decode") == 0.0);

  CHECK_FALSE(p.recording());
  CHECK(p.events().empty());

  p.reset();
  CHECK(p.count(Stage::decode) == 0);
  CHECK(p.total_seconds(Stage::decode) == 0.0);
}

TEST_CASE("event recording is bounded and keeps what fits", "[harness][profiler]") {
  StageProfiler p(8);
  p.record_events(1000);
  REQUIRE(p.recording());
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&p, t] {
      for (int i = 0; i < 500; ++i) p.add(Stage::read, 0.0, 0.002, static_cast<size_t>(i), t);
    });
  for (auto& t : ts) t.join();
  const auto ev = p.events();
  CHECK(ev.size() == 1000);
  CHECK(p.dropped_events() == 500);
  for (auto& e : ev) {
    CHECK(e.stage == Stage::read);
    CHECK(e.t1 - e.t0 == Approx(0.002));
    CHECK(e.thread >= 0);
    CHECK(e.thread < 3);
    CHECK(e.frame < 500);
  }
  // Totals still count every event, recorded or not.
  CHECK(p.count(Stage::read) == 1500);
  p.reset();
  CHECK(p.events().empty());
  CHECK(p.dropped_events() == 0);
  CHECK(p.recording());
}

TEST_CASE("ScopedStage times its lifetime; a null profiler is a no-op", "[harness][profiler]") {
  StageProfiler p;
  p.record_events(4);
  p.set_thread_name(0, "main");
  const double before = p.now();
  {
    ScopedStage s(&p, Stage::write, 42, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  { ScopedStage none(nullptr, Stage::write, 1, 0); }
  CHECK(p.count(Stage::write) == 1);
  CHECK(p.total_seconds(Stage::write) >= 0.004);
  const auto ev = p.events();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].frame == 42);
  CHECK(ev[0].t0 >= before);
  CHECK(p.thread_names().at(0) == "main");
}
