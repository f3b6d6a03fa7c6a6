// The paced real-time mode: the paced source, one trial's summary (latency, backlog, verdict), the session that runs
// a prepared strategy paced, and the search for the highest sustainable rate. See realtime.hpp.
#include "harness/realtime.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "harness/cache.hpp"
#include "base/error.hpp"
#include "strategies/strategy.hpp"

namespace xrd::harness::realtime {

// ---- PacedSource ---------------------------------------------------------------------------------------------------

PacedSource::PacedSource(const frames::FrameSource& inner, double rate_hz, size_t frames, size_t buffer_frames,
                         const std::atomic<bool>* stop, size_t first, size_t stride)
    : inner_(inner), rate_(rate_hz), n_(frames), buffer_(buffer_frames), stop_(stop), first_(first),
      stride_(std::max<size_t>(1, stride)) {
  if (!(rate_hz >= 0) || !std::isfinite(rate_hz)) throw Error("", "--rate", "must be a positive frame rate");
  if (inner.size() == 0) throw Error("", "", "the dataset has no frame to stream");
  rec_.resize(n_);
  for (size_t i = 0; i < n_; ++i) rec_[i].release_s = rate_ > 0 ? double(stream_frame(i)) / rate_ : 0.0;
  done_times_.reserve(n_);
  t0_ = clock::now();
}

void PacedSource::start() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& f : rec_) {
    f.done_s = -1;
    f.dropped = f.decided = false;
  }
  done_times_.clear();
  next_decide_ = accepted_ = 0;
  t0_ = clock::now();
}

double PacedSource::now_s() const { return std::chrono::duration<double>(clock::now() - t0_).count(); }

std::string PacedSource::origin(size_t i) const {
  const size_t g = stream_frame(i);
  return inner_.origin(g % inner_.size()) + " (stream frame " + std::to_string(g) + ")";
}

void PacedSource::load(size_t i, frames::EncodedFrame& frame) const {
  inner_.load(stream_frame(i) % inner_.size(), frame);
  frame.index = i;
}

void PacedSource::load_into(size_t i, frames::EncodedFrame& frame, const PayloadClaim& claim) const {
  // The dataset's direct read, the claim seeing the stream's frame index (sources pass `frame` itself as the
  // metadata, as every FrameSource does today).
  inner_.load_into(stream_frame(i) % inner_.size(), frame, [&](const frames::EncodedFrame& meta, size_t bytes) {
    frame.index = i;
    return claim(meta, bytes);
  });
  frame.index = i;
}

void PacedSource::prefetch(size_t i) const {
  if (i < n_) inner_.prefetch(stream_frame(i) % inner_.size());
}

void PacedSource::decide_upto(size_t i) const {
  for (; next_decide_ <= i && next_decide_ < n_; ++next_decide_) {
    FrameTiming& f = rec_[next_decide_];
    // Frames held when f is released: accepted so far minus those delivered by then (done_times_ is sorted).
    const size_t gone = size_t(std::upper_bound(done_times_.begin(), done_times_.end(), f.release_s) -
                               done_times_.begin());
    const size_t held = accepted_ - gone;
    f.decided = true;
    if (buffer_ > 0 && held >= buffer_) {
      f.dropped = true;
    } else {
      ++accepted_;
    }
  }
}

PacedSource::clock::time_point PacedSource::release_time(size_t i) const {
  return t0_ + std::chrono::duration_cast<clock::duration>(
                   std::chrono::duration<double>(i < n_ ? rec_[i].release_s : double(stream_frame(i)) / rate_));
}

bool PacedSource::acquire(size_t i) const {
  if (i >= n_) return false;
  const auto release = release_time(i);
  // Sleep until the release, in slices so that Ctrl-C is seen.
  for (;;) {
    if (stop_ && stop_->load(std::memory_order_relaxed)) return false;
    const auto now = clock::now();
    if (now >= release) break;
    std::this_thread::sleep_until(std::min(release, now + std::chrono::milliseconds(50)));
  }
  std::lock_guard<std::mutex> l(mu_);
  decide_upto(i);
  return !rec_[i].dropped;
}

bool PacedSource::dropped(size_t i) const {
  std::lock_guard<std::mutex> l(mu_);
  return i < n_ && rec_[i].decided && rec_[i].dropped;
}

void PacedSource::done(size_t i) {
  std::lock_guard<std::mutex> l(mu_);
  const double t = now_s();
  if (i < n_ && !rec_[i].dropped && rec_[i].done_s < 0) {
    rec_[i].done_s = t;
    done_times_.push_back(t);
  }
}

std::vector<PacedSource::FrameTiming> PacedSource::frames_record() const {
  std::lock_guard<std::mutex> l(mu_);
  return rec_;
}

// ---- Summary ------------------------------------------------------------------------------------------------------

static double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * double(sorted.size() - 1);
  const size_t k = size_t(pos);
  if (k + 1 >= sorted.size()) return sorted.back();
  return sorted[k] + (pos - double(k)) * (sorted[k + 1] - sorted[k]);
}

LatencyStats latency_stats(std::vector<double> ms) {
  LatencyStats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.p50 = percentile(ms, 0.50);
  s.p90 = percentile(ms, 0.90);
  s.p99 = percentile(ms, 0.99);
  s.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean = sum / double(ms.size());
  return s;
}

size_t frames_for(double rate_hz, double duration_s, size_t min_frames) {
  return std::max(min_frames, size_t(std::ceil(rate_hz * duration_s)));
}

void summarize(Trial& t, const std::vector<PacedSource::FrameTiming>& rec) {
  t.latencies_ms.clear();
  t.dropped = 0;
  double last_done = 0;
  std::optional<double> first_drop;
  // Backlog events: +1 at each accepted frame's release, -1 at its delivery.
  std::vector<std::pair<double, int>> ev;
  ev.reserve(rec.size() * 2);
  for (const auto& f : rec) {
    if (f.dropped) {
      ++t.dropped;
      if (!first_drop) first_drop = f.release_s;
      continue;
    }
    ev.emplace_back(f.release_s, +1);
    if (f.done_s >= 0) {
      t.latencies_ms.push_back((f.done_s - f.release_s) * 1e3);
      last_done = std::max(last_done, f.done_s);
      ev.emplace_back(f.done_s, -1);
    }
  }
  // Deliveries sort after releases at the same instant (a frame is held for at least an instant).
  std::sort(ev.begin(), ev.end(), [](auto& a, auto& b) { return a.first < b.first || (a.first == b.first && a.second > b.second); });
  t.latency = latency_stats(t.latencies_ms);
  t.wall_s = last_done;
  t.achieved_hz = t.wall_s > 0 ? double(t.reduced) / t.wall_s : 0;

  // Backlog after every event; the series keeps the maximum of each of ~400 time buckets.
  long held = 0;
  t.backlog_max = 0;
  t.backlog.clear();
  const double span = std::max(1e-9, ev.empty() ? 0.0 : ev.back().first);
  const size_t buckets = 400;
  size_t bucket = SIZE_MAX;
  std::vector<double> xs, ys;  // backlog just after each accepted release (the growth fit), before any drop
  for (auto& [time, d] : ev) {
    held += d;
    t.backlog_max = std::max(t.backlog_max, size_t(std::max(0L, held)));
    const size_t b = std::min(buckets - 1, size_t(time / span * double(buckets)));
    if (b != bucket) {
      t.backlog.emplace_back(time, size_t(std::max(0L, held)));
      bucket = b;
    } else if (size_t(held) > t.backlog.back().second) {
      t.backlog.back().second = size_t(held);
    }
    if (d > 0 && (!first_drop || time < *first_drop)) {
      xs.push_back(time);
      ys.push_back(double(held));
    }
  }
  // Least-squares slope of the backlog (frames/s). Growing: it would add more than max(4 frames, 2% of the frames)
  // over the fitted span: a bounded backlog oscillates (batches, readers in flight) but does not trend.
  t.growth_fps = 0;
  if (xs.size() >= 3) {
    double mx = 0, my = 0;
    for (size_t k = 0; k < xs.size(); ++k) mx += xs[k], my += ys[k];
    mx /= double(xs.size());
    my /= double(xs.size());
    double sxy = 0, sxx = 0;
    for (size_t k = 0; k < xs.size(); ++k) sxy += (xs[k] - mx) * (ys[k] - my), sxx += (xs[k] - mx) * (xs[k] - mx);
    if (sxx > 0) t.growth_fps = sxy / sxx;
  }
  const double fitted_span = xs.size() >= 2 ? xs.back() - xs.front() : 0;
  t.growing = t.growth_fps * fitted_span > std::max(4.0, 0.02 * double(rec.size()));

  t.first_drop_s = first_drop;
  t.reasons.clear();
  if (t.dropped > 0)
    t.reasons.push_back(std::to_string(t.dropped) + " of " + std::to_string(rec.size()) +
                        " frames dropped (buffer of " + std::to_string(t.buffer_frames) + " frames full)");
  if (t.growing) {
    char s[120];
    std::snprintf(s, sizeof s, "backlog grows by %.1f frames/s", t.growth_fps);
    t.reasons.push_back(s);
  }
  if (t.latency.p99 > t.max_latency_ms) {
    char s[120];
    std::snprintf(s, sizeof s, "p99 latency %.1f ms > --max-latency %.1f ms", t.latency.p99, t.max_latency_ms);
    t.reasons.push_back(s);
  }
  if (t.failed > 0) t.reasons.push_back(std::to_string(t.failed) + " frames failed to read or decode");
  if (t.reduced == 0) t.reasons.push_back("no frame was reduced");
  t.keeps_up = t.reasons.empty();
  t.headroom_ms.reset();
  t.time_to_full_s.reset();
  if (t.keeps_up) t.headroom_ms = t.max_latency_ms - t.latency.p99;
  if (!t.dropped && t.growing && t.growth_fps > 0 && t.buffer_frames > 0)
    t.time_to_full_s = double(t.buffer_frames) / t.growth_fps;
}

// ---- Session -------------------------------------------------------------------------------------------------------

struct Session::Sink : strategies::FrameSink {
  PacedSource* src = nullptr;
  const Session::Keep* keep = nullptr;
  size_t ok = 0, failed = 0, dropped_n = 0;
  std::vector<FrameError> errors;

  void pattern(size_t frame, const integration::Pattern& p) override {
    src->done(frame);  // the delivery time first: storing is the harness's work, not the strategy's
    (*keep)(frame, p);
    ++ok;
  }
  void error(size_t frame, const std::string& file, const std::string& reason) override {
    src->done(frame);
    ++failed;
    if (errors.size() < kMaxListedErrors) errors.push_back({file, reason});
  }
  void dropped(size_t) override { ++dropped_n; }
};

Session::Session(const Dataset& ds, const RowSpec& spec, ocl::DeviceContext* device, const PatternSet& ref,
                 const std::atomic<bool>* stop)
    : ds_(ds), spec_(spec), device_(device), ref_(ref), stop_(stop) {
  const auto& info = strategies::find_strategy(spec.strategy);
  strategy_ = info.make();
  ctx_.source = ds_.source.get();
  ctx_.codec = ds_.codec;
  ctx_.setup = &ds_.setup;
  ctx_.device = row_uses_device(spec) ? device_ : nullptr;
  ctx_.opt = spec.opt;
  ctx_.stop = stop_;
  try {
    strategy_->prepare(ctx_);
  } catch (const std::exception& e) {
    throw Error("", "", spec.strategy + ": prepare failed: " + e.what());
  }
}

Session::~Session() = default;

Trial Session::run(double rate_hz, size_t frames, size_t buffer_frames, double max_latency_ms) {
  PatternSet got;
  got.reset(frames, static_cast<size_t>(ds_.setup.csr.bins));
  std::vector<PacedSource::FrameTiming> rec;
  Trial t = run_share(rate_hz, frames, 0, 1, buffer_frames, max_latency_ms,
                      [&](size_t i, const integration::Pattern& p) { got.store(i, p); }, {}, rec);
  validate(t, got, ref_);
  return t;
}

Trial Session::run_share(double rate_hz, size_t frames, size_t first, size_t stride, size_t buffer_frames,
                         double max_latency_ms, const Keep& keep, const std::function<void()>& before_start,
                         std::vector<PacedSource::FrameTiming>& rec) {
  Trial t;
  t.rate_hz = rate_hz;
  t.frames = frames;
  t.buffer_frames = buffer_frames;
  t.max_latency_ms = max_latency_ms;
  PacedSource src(*ds_.source, rate_hz, frames, buffer_frames, stop_, first, stride);
  Sink sink;
  sink.src = &src;
  sink.keep = &keep;
  strategies::RunContext ctx = ctx_;
  ctx.source = &src;
  ctx.sink = &sink;
  if (spec_.cache == CacheMode::hot) warm(ds_.files);
  else evict(ds_.files);
  if (before_start) before_start();
  src.start();
  try {
    strategy_->run(ctx);
  } catch (const std::exception& e) {
    if (stop_ && stop_->load()) throw Interrupted();
    t.invalid_reasons.push_back(std::string("run failed: ") + e.what());
  }
  if (stop_ && stop_->load()) throw Interrupted();
  t.reduced = sink.ok;
  t.failed = sink.failed;
  t.errors = sink.errors;
  rec = src.frames_record();
  summarize(t, rec);
  if (sink.dropped_n != t.dropped)
    t.invalid_reasons.push_back("the sink saw " + std::to_string(sink.dropped_n) + " dropped frames, the source " +
                                std::to_string(t.dropped));
  return t;
}

void validate(Trial& t, const PatternSet& got, const PatternSet& ref) {
  // Every pattern against the reference's pattern of the same dataset frame.
  const size_t m = ref.frames(), frames = got.frames();
  size_t missing = 0;
  t.frames_compared = 0;
  t.max_rel_diff = 0;
  for (size_t i = 0; i < frames && m > 0; ++i) {
    const size_t f = i % m;
    if (!got.present(i)) {
      // A dropped or failed frame has no pattern; any other absence is a strategy that lost a frame.
      missing += ref.present(f) ? 1 : 0;
      continue;
    }
    if (!ref.present(f)) continue;
    ++t.frames_compared;
    const double *ri = ref.intensity(f), *rc = ref.count(f), *gi = got.intensity(i), *gc = got.count(i);
    for (size_t b = 0; b < ref.bins(); ++b) {
      if (!(rc[b] > 0.5)) continue;
      double d = std::max(rel_diff(gi[b], ri[b]), rel_diff(gc[b], rc[b]));
      if (std::isnan(d)) d = std::numeric_limits<double>::infinity();
      t.max_rel_diff = std::max(t.max_rel_diff, d);
    }
  }
  missing -= std::min(missing, t.dropped + t.failed);
  t.validated = t.frames_compared > 0 && t.max_rel_diff <= kValidationTolerance && missing == 0;
  if (t.max_rel_diff > kValidationTolerance) {
    char s[120];
    std::snprintf(s, sizeof s, "output differs from the reference: max relative difference %.3g > %.0e",
                  t.max_rel_diff, kValidationTolerance);
    t.invalid_reasons.push_back(s);
  }
  if (missing > 0) t.invalid_reasons.push_back(std::to_string(missing) + " frames were neither reduced nor dropped");
  if (t.frames_compared == 0) t.invalid_reasons.push_back("no frame could be compared with the reference");
}

// ---- find-max ------------------------------------------------------------------------------------------------------

FindMax find_max(Session& s, double trial_s, size_t buffer_frames, double max_latency_ms, double tolerance,
                 int max_trials) {
  return find_max([&](double rate, size_t frames, size_t buffer, double max_latency) {
    return s.run(rate, frames, buffer, max_latency);
  }, trial_s, buffer_frames, max_latency_ms, tolerance, max_trials);
}

FindMax find_max(const RunTrial& run, double trial_s, size_t buffer_frames, double max_latency_ms, double tolerance,
                 int max_trials) {
  FindMax f;
  f.trial_s = trial_s;
  // The batch run: as many frames as a trial at ~100 frames/s would use, every frame there at once.
  const Trial batch = run(0, frames_for(100, trial_s, 50), 0, std::numeric_limits<double>::infinity());
  f.batch_fps = batch.achieved_hz;
  if (!(f.batch_fps > 0)) throw Error("", "--find-max", "the batch run reduced no frame: nothing to search from");
  auto stable = [&](double rate) {
    f.trials.push_back(run(rate, frames_for(rate, trial_s), buffer_frames, max_latency_ms));
    return f.trials.back().keeps_up && f.trials.back().invalid_reasons.empty();  // a fast wrong answer is no result
  };
  double lo = 0, hi = 0, r = 0.9 * f.batch_fps;
  if (stable(r)) {
    lo = r;
    while (int(f.trials.size()) < max_trials) {
      r *= 1.25;
      if (stable(r)) {
        lo = r;
      } else {
        hi = r;
        break;
      }
    }
  } else {
    hi = r;
    while (int(f.trials.size()) < max_trials && r > 1e-3) {
      r *= 0.7;
      if (stable(r)) {
        lo = r;
        break;
      }
      hi = r;
    }
  }
  while (lo > 0 && hi > 0 && hi / lo > 1 + tolerance && int(f.trials.size()) < max_trials) {
    const double mid = std::sqrt(lo * hi);
    if (stable(mid))
      lo = mid;
    else
      hi = mid;
  }
  f.lo_hz = lo;
  f.hi_hz = hi;
  f.max_rate_hz = lo;
  f.ratio_to_batch = lo / f.batch_fps;
  return f;
}

// ---- JSON ----------------------------------------------------------------------------------------------------------

static nlohmann::json opt_num(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

nlohmann::json to_json(const Trial& t, bool with_series) {
  using nlohmann::json;
  json j = {
      {"rate_hz", t.rate_hz},
      {"frames", t.frames},
      {"buffer_frames", t.buffer_frames},
      {"max_latency_ms", std::isfinite(t.max_latency_ms) ? json(t.max_latency_ms) : json()},
      {"reduced", t.reduced},
      {"failed", t.failed},
      {"dropped", t.dropped},
      {"wall_s", t.wall_s},
      {"achieved_hz", t.achieved_hz},
      {"latency_ms",
       {{"p50", t.latency.p50}, {"p90", t.latency.p90}, {"p99", t.latency.p99}, {"max", t.latency.max},
        {"mean", t.latency.mean}}},
      {"backlog", {{"max", t.backlog_max}, {"growth_fps", t.growth_fps}, {"growing", t.growing}}},
      {"verdict",
       {{"keeps_up", t.keeps_up},
        {"reasons", t.reasons},
        {"headroom_ms", opt_num(t.headroom_ms)},
        {"first_drop_s", opt_num(t.first_drop_s)},
        {"time_to_full_s", opt_num(t.time_to_full_s)}}},
      {"validated", t.validated},
      {"max_rel_diff", t.max_rel_diff},
      {"frames_compared", t.frames_compared},
      {"invalid_reasons", t.invalid_reasons},
  };
  json errs = json::array();
  for (auto& e : t.errors) errs.push_back({{"file", e.file}, {"reason", e.reason}});
  j["errors"] = errs;
  if (with_series) {
    json series = json::array();
    for (auto& [time, n] : t.backlog) series.push_back({time, n});
    j["backlog"]["series"] = series;
    j["latencies_ms"] = t.latencies_ms;
  }
  return j;
}

nlohmann::json to_json(const FindMax& f) {
  nlohmann::json trials = nlohmann::json::array();
  for (auto& t : f.trials)
    trials.push_back({{"rate_hz", t.rate_hz},
                      {"frames", t.frames},
                      {"keeps_up", t.keeps_up},
                      {"dropped", t.dropped},
                      {"p99_ms", t.latency.p99},
                      {"growth_fps", t.growth_fps},
                      {"validated", t.validated},
                      {"reasons", t.reasons}});
  return {{"batch_fps", f.batch_fps},
          {"max_rate_hz", f.max_rate_hz},
          {"bracket_hz", {f.lo_hz, f.hi_hz > 0 ? nlohmann::json(f.hi_hz) : nlohmann::json()}},
          {"ratio_to_batch", f.ratio_to_batch},
          {"trial_s", f.trial_s},
          {"trials", trials}};
}

}  // namespace xrd::harness::realtime
