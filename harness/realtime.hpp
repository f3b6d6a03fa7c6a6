// The paced real-time mode (`xrdbench realtime`, docs/realtime.md): a detector's stream replayed from a dataset at a
// fixed frame rate into a bounded buffer, one strategy reducing it as frames arrive. Per frame: release -> sink
// latency; per run: backlog over time, drops, and the verdict (keeps up / falls behind); --find-max searches the
// highest sustainable rate. Results go to results.json's "realtime" block (schema kRealtimeSchema).
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/frame_source.hpp"
#include "harness/dataset.hpp"
#include "harness/runner.hpp"
#include "harness/validate.hpp"

namespace xrd::ocl {
class DeviceContext;
}

namespace xrd::harness::realtime {

inline constexpr const char* kRealtimeSchema = "xrdbench-realtime/1";

// A detector's stream over `inner`: stream frame i is dataset frame i % inner.size(), released at t0 + i / rate
// (start() sets t0). acquire(i) sleeps until the release, then decides every frame released so far in order: a
// frame whose release finds `buffer_frames` frames held (released, not dropped, not yet delivered to the sink) is
// dropped, as a detector stream loses a frame when the detector PC's memory is full. Decisions are made from the
// recorded times (release, done), so they do not depend on when a strategy asks. rate 0: every frame is released
// at t0 (a batch run), buffer_frames 0: unbounded. With first / stride (under mpirun, one rank of a stream fanned
// out round-robin over R receivers: first = rank, stride = R), frame i of this source is stream frame
// first + i * stride, released at t0 + (first + i * stride) / rate; the buffer is this receiver's.
class PacedSource : public frames::FrameSource {
 public:
  using clock = std::chrono::steady_clock;
  struct FrameTiming {
    double release_s = 0;  // since t0
    double done_s = -1;    // when the sink got its pattern or error (since t0); -1: not yet, or dropped
    bool dropped = false;
    bool decided = false;
  };

  PacedSource(const frames::FrameSource& inner, double rate_hz, size_t frames, size_t buffer_frames,
              const std::atomic<bool>* stop = nullptr, size_t first = 0, size_t stride = 1);

  void start();                 // t0 = now: frame 0 is released at once
  double now_s() const;         // seconds since t0
  void done(size_t i);          // the sink delivered frame i (pattern or error): it leaves the buffer now
  std::vector<FrameTiming> frames_record() const;
  double rate_hz() const { return rate_; }
  size_t buffer_frames() const { return buffer_; }
  size_t stream_frame(size_t i) const { return first_ + i * stride_; }  // the stream's number of frame i

  size_t size() const override { return n_; }
  std::string origin(size_t i) const override;
  void load(size_t i, frames::EncodedFrame& frame) const override;
  void load_into(size_t i, frames::EncodedFrame& frame, const PayloadClaim& claim) const override;
  void prefetch(size_t i) const override;
  void set_read_method(io::ReadMethod m) const override { inner_.set_read_method(m); }
  io::ReadMethod read_method() const override { return inner_.read_method(); }
  size_t max_frame_bytes() const override { return inner_.max_frame_bytes(); }
  std::vector<std::filesystem::path> files() const override { return inner_.files(); }
  bool acquire(size_t i) const override;
  bool dropped(size_t i) const override;
  clock::time_point release_time(size_t i) const override;

 private:
  void decide_upto(size_t i) const;  // under mu_

  const frames::FrameSource& inner_;
  double rate_;
  size_t n_, buffer_;
  const std::atomic<bool>* stop_;
  size_t first_ = 0, stride_ = 1;
  clock::time_point t0_;
  mutable std::mutex mu_;
  mutable std::vector<FrameTiming> rec_;
  mutable size_t next_decide_ = 0, accepted_ = 0;
  mutable std::vector<double> done_times_;  // non-decreasing: taken under mu_
};

struct LatencyStats {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // ms
};
// Percentiles by linear interpolation between order statistics (numpy's default); all 0 when empty.
LatencyStats latency_stats(std::vector<double> ms);

// One paced run and what it showed.
struct Trial {
  double rate_hz = 0;        // 0: batch (every frame there at once)
  size_t frames = 0, buffer_frames = 0;
  double max_latency_ms = 0;
  size_t reduced = 0, failed = 0, dropped = 0;
  double wall_s = 0, achieved_hz = 0;  // wall: t0 -> last delivery; achieved: reduced frames / wall
  LatencyStats latency;
  std::vector<double> latencies_ms;    // per delivered frame, in stream order
  size_t backlog_max = 0;
  double growth_fps = 0;               // least-squares slope of the backlog over the run (before the first drop)
  std::vector<std::pair<double, size_t>> backlog;  // (seconds, frames held), at most ~400 points
  bool growing = false;
  bool keeps_up = false;
  std::vector<std::string> reasons;    // why it does not keep up
  std::optional<double> headroom_ms;   // keeps up: max_latency - p99
  std::optional<double> first_drop_s;  // when the buffer first overflowed
  std::optional<double> time_to_full_s;  // falls behind without drops yet: buffer_frames / growth
  bool validated = false;
  double max_rel_diff = 0;
  size_t frames_compared = 0;
  std::vector<std::string> invalid_reasons;
  std::vector<FrameError> errors;
};

// The frames one trial needs for `duration_s` at `rate_hz` (at least `min_frames`).
size_t frames_for(double rate_hz, double duration_s, size_t min_frames = 20);

// The verdict from a trial's records: latency, backlog, growth, drops, keeps_up and its reasons.
void summarize(Trial& t, const std::vector<PacedSource::FrameTiming>& rec);

// Validation of a trial's patterns: stream frame i of `got` against the reference's frame i % ref.frames(); sets
// validated, max_rel_diff, frames_compared and adds to invalid_reasons (frames neither reduced, dropped nor failed;
// output differing from the reference). Uses t.dropped and t.failed.
void validate(Trial& t, const PatternSet& got, const PatternSet& ref);

// One strategy prepared once on a dataset, run paced as often as asked (find-max runs many trials).
class Session {
 public:
  // ref: the reference patterns of ds (Runner::reference()). Throws xrd::Error when the strategy cannot prepare.
  Session(const Dataset& ds, const RowSpec& spec, ocl::DeviceContext* device, const PatternSet& ref,
          const std::atomic<bool>* stop);
  ~Session();
  // A paced run of `frames` frames at rate_hz (0: batch) with that buffer (0: unbounded); validates every pattern
  // against the reference. Throws Interrupted on Ctrl-C.
  Trial run(double rate_hz, size_t frames, size_t buffer_frames, double max_latency_ms);

  // This receiver's share of a stream of `frames` frames fanned out round-robin (harness/mpi_realtime.cpp): stream
  // frames first, first + stride, ...; `keep` gets every pattern (by its index in the share); `before_start` runs
  // after the cache preparation, just before t0 (a barrier of the ranks). The trial's figures are this share's;
  // `rec` gets its records; no validation. Throws Interrupted on Ctrl-C.
  using Keep = std::function<void(size_t, const integration::Pattern&)>;
  Trial run_share(double rate_hz, size_t frames, size_t first, size_t stride, size_t buffer_frames,
                  double max_latency_ms, const Keep& keep, const std::function<void()>& before_start,
                  std::vector<PacedSource::FrameTiming>& rec);
  const Dataset& dataset() const { return ds_; }
  const RowSpec& spec() const { return spec_; }
  ocl::DeviceContext* device() const { return row_uses_device(spec_) ? device_ : nullptr; }

 private:
  struct Sink;
  const Dataset& ds_;
  RowSpec spec_;
  ocl::DeviceContext* device_;
  const PatternSet& ref_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<strategies::Strategy> strategy_;
  strategies::RunContext ctx_;
};

struct FindMax {
  double batch_fps = 0;                 // a batch run of the same frames (every frame there at once)
  double max_rate_hz = 0;               // the highest rate that kept up
  double lo_hz = 0, hi_hz = 0;          // the bracket it ended on: lo kept up, hi did not (0: never failed)
  double ratio_to_batch = 0;
  double trial_s = 0;
  std::vector<Trial> trials;            // in the order run
};
// Searches the highest rate that keeps up: a batch run first, then from 0.9 x its fps up (x1.25) or down (x0.7)
// until the bracket holds, then geometric bisection until hi/lo < 1 + tolerance (at most max_trials runs).
FindMax find_max(Session& s, double trial_s, size_t buffer_frames, double max_latency_ms, double tolerance = 0.04,
                 int max_trials = 14);
// The same search over any way of running a trial (rate, frames, buffer, max latency) -> trial: under mpirun every
// rank runs it with the same collective trials (harness/mpi_realtime.cpp).
using RunTrial = std::function<Trial(double, size_t, size_t, double)>;
FindMax find_max(const RunTrial& run, double trial_s, size_t buffer_frames, double max_latency_ms,
                 double tolerance = 0.04, int max_trials = 14);

// JSON of one trial (the per-run object of the realtime block; docs/results-schema.md).
nlohmann::json to_json(const Trial& t, bool with_series = true);
nlohmann::json to_json(const FindMax& f);

}  // namespace xrd::harness::realtime
