// Per-stage timing of a pipeline (the paper's §2.3 profile): threads add (stage, t0, t1) intervals without taking a
// lock; totals per stage, per-frame means, and optionally every event (for the Chrome trace, trace.hpp).
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace xrd {

enum class Stage : uint8_t { read, md5, decode, integrate, write, wait };
inline constexpr size_t kStageCount = 6;
inline constexpr std::array<Stage, kStageCount> kAllStages = {Stage::read,      Stage::md5,   Stage::decode,
                                                              Stage::integrate, Stage::write, Stage::wait};
// "read", "md5", "decode", "integrate", "write", "wait" (the keys of stages_ms in results.json).
const char* stage_name(Stage s);

struct StageEvent {
  Stage stage;
  int thread;    // the caller's thread index (0 = main thread by convention)
  size_t frame;  // frame index in the dataset
  double t0, t1; // seconds since the profiler's epoch
};

class StageProfiler {
 public:
  // max_threads: number of per-thread accumulator slots; thread indices beyond it share slots (still exact,
  // the slots are atomic, just contended).
  explicit StageProfiler(int max_threads = 64);

  // Seconds since the profiler's epoch (steady_clock; the epoch is construction or the last reset()).
  double now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
  }

  // Thread-safe, lock-free: adds t1 - t0 to the stage's total in the thread's slot, and records the event when
  // recording is on and capacity is left (events beyond capacity are counted in dropped_events()).
  void add(Stage s, double t0, double t1, size_t frame, int thread);

  // Turn on event recording with room for `capacity` events (memory reserved now, never grown). Off by default.
  // Call before the run, not while threads are adding.
  void record_events(size_t capacity);
  bool recording() const { return events_capacity_ > 0; }
  // The recorded events in arrival order. Call when no thread is adding (after the run).
  std::vector<StageEvent> events() const;
  uint64_t dropped_events() const { return dropped_.load(std::memory_order_relaxed); }

  // Optional names for the trace ("main", "reader 1", ...).
  void set_thread_name(int thread, std::string name);
  const std::map<int, std::string>& thread_names() const { return thread_names_; }

  // Total seconds spent in the stage, summed over all threads (CPU time of parallel stages, not wall time).
  double total_seconds(Stage s) const;
  uint64_t count(Stage s) const;  // number of intervals added
  // total_seconds(stage) * 1000 / frames for every stage, keyed by stage_name(); frames == 0 -> all zeros.
  std::map<std::string, double> per_frame_ms(size_t frames) const;

  // Zero every total, forget recorded events (capacity kept), restart the epoch.
  void reset();

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<int64_t>, kStageCount> ns{};
    std::array<std::atomic<uint64_t>, kStageCount> n{};
  };
  std::chrono::steady_clock::time_point epoch_;
  std::unique_ptr<Slot[]> slots_;
  int nslots_;
  std::unique_ptr<StageEvent[]> events_;
  size_t events_capacity_ = 0;
  std::atomic<size_t> next_event_{0};
  std::atomic<uint64_t> dropped_{0};
  std::map<int, std::string> thread_names_;
};

// RAII: times its own lifetime as one interval of `stage`. A null profiler makes it a no-op.
class ScopedStage {
 public:
  ScopedStage(StageProfiler* p, Stage s, size_t frame, int thread)
      : p_(p), s_(s), frame_(frame), thread_(thread), t0_(p ? p->now() : 0.0) {}
  ~ScopedStage() {
    if (p_) p_->add(s_, t0_, p_->now(), frame_, thread_);
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  StageProfiler* p_;
  Stage s_;
  size_t frame_;
  int thread_;
  double t0_;
};

}  // namespace xrd
