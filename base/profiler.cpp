// StageProfiler: lock-free per-thread stage totals and an optional bounded event log.
#include "base/profiler.hpp"

#include <algorithm>
#include <cmath>

#include "base/enum_names.hpp"

namespace xrd {

namespace {
constexpr EnumName<Stage> kStageNames[] = {{Stage::read, "read"},           {Stage::md5, "md5"},
                                           {Stage::decode, "decode"},       {Stage::integrate, "integrate"},
                                           {Stage::write, "write"},         {Stage::wait, "wait"}};
}  // namespace

const char* stage_name(Stage s) { return enum_name(kStageNames, s); }

StageProfiler::StageProfiler(int max_threads)
    : epoch_(std::chrono::steady_clock::now()),
      slots_(new Slot[static_cast<size_t>(max_threads > 0 ? max_threads : 1)]),
      nslots_(max_threads > 0 ? max_threads : 1) {}

void StageProfiler::add(Stage s, double t0, double t1, size_t frame, int thread) {
  const size_t i = static_cast<size_t>(s);
  if (i >= kStageCount) return;
  Slot& slot = slots_[static_cast<size_t>(thread >= 0 ? thread : -(thread + 1)) % static_cast<size_t>(nslots_)];
  // Nanoseconds in integers: exact sums whatever the order threads add in.
  const auto ns = static_cast<int64_t>(std::llround((t1 - t0) * 1e9));
  slot.ns[i].fetch_add(ns, std::memory_order_relaxed);
  slot.n[i].fetch_add(1, std::memory_order_relaxed);
  if (events_capacity_ == 0) return;
  const size_t k = next_event_.fetch_add(1, std::memory_order_relaxed);
  if (k < events_capacity_)
    events_[k] = StageEvent{s, thread, frame, t0, t1};
  else
    dropped_.fetch_add(1, std::memory_order_relaxed);
}

void StageProfiler::record_events(size_t capacity) {
  events_.reset(capacity ? new StageEvent[capacity] : nullptr);
  events_capacity_ = capacity;
  next_event_.store(0);
  dropped_.store(0);
}

std::vector<StageEvent> StageProfiler::events() const {
  const size_t n = std::min(next_event_.load(std::memory_order_acquire), events_capacity_);
  return std::vector<StageEvent>(events_.get(), events_.get() + n);
}

void StageProfiler::set_thread_name(int thread, std::string name) { thread_names_[thread] = std::move(name); }

double StageProfiler::total_seconds(Stage s) const {
  const size_t i = static_cast<size_t>(s);
  int64_t ns = 0;
  for (int t = 0; t < nslots_; ++t) ns += slots_[static_cast<size_t>(t)].ns[i].load(std::memory_order_relaxed);
  return static_cast<double>(ns) * 1e-9;
}

uint64_t StageProfiler::count(Stage s) const {
  const size_t i = static_cast<size_t>(s);
  uint64_t n = 0;
  for (int t = 0; t < nslots_; ++t) n += slots_[static_cast<size_t>(t)].n[i].load(std::memory_order_relaxed);
  return n;
}

std::map<std::string, double> StageProfiler::per_frame_ms(size_t frames) const {
  std::map<std::string, double> out;
  for (Stage s : kAllStages)
    out[stage_name(s)] = frames ? total_seconds(s) * 1e3 / static_cast<double>(frames) : 0.0;
  return out;
}

void StageProfiler::reset() {
  for (int t = 0; t < nslots_; ++t)
    for (size_t i = 0; i < kStageCount; ++i) {
      slots_[static_cast<size_t>(t)].ns[i].store(0, std::memory_order_relaxed);
      slots_[static_cast<size_t>(t)].n[i].store(0, std::memory_order_relaxed);
    }
  next_event_.store(0);
  dropped_.store(0);
  epoch_ = std::chrono::steady_clock::now();
}

}  // namespace xrd
