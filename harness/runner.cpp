// Runs rows: cache preparation and residency, warm-up + timed repeats, validation against the reference,
// summary into a results.json row. See runner.hpp.
#include "harness/runner.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>
#include <cstdio>
#include <sstream>

#include "harness/cache.hpp"
#include "harness/h5_writer.hpp"
#include "harness/mpi.hpp"
#include "harness/stats.hpp"
#include "kernels/error.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

const char* source_name(CacheMode c) { return c == CacheMode::cold ? "SSD" : "MEM"; }

CacheMode parse_cache_mode(const std::string& s) {
  if (s == "hot") return CacheMode::hot;
  if (s == "cold") return CacheMode::cold;
  throw std::invalid_argument("cache must be hot or cold, not '" + s + "'");
}

bool row_uses_device(const RowSpec& spec) {
  return strat::find_strategy(spec.strategy).needs_device || spec.opt.integrator == strat::Integrator::gpu;
}

std::string row_id_of(const RowSpec& spec) {
  if (!spec.id.empty()) return spec.id;
  const auto& info = strat::find_strategy(spec.strategy);
  return row_id(info.name, info.uses_readers ? std::optional<int>(spec.opt.readers) : std::nullopt,
                row_uses_device(spec) ? "gpu" : "cpu", source_name(spec.cache));
}

// One row's patterns in NeXus HDF5 (the layout of `xrdbench integrate`), rewritten by every run.
class RowOutput {
 public:
  RowOutput(std::filesystem::path path, const Dataset& ds) : path_(std::move(path)) {
    layout_.frames = ds.files.size();
    layout_.radial_unit = integ::to_string(ds.setup.csr.unit);
    layout_.radial = ds.setup.csr.radial;
    for (auto& f : ds.files) layout_.source_files.push_back(f.string());
    std::filesystem::create_directories(path_.parent_path());
  }
  void open() { writer_ = std::make_unique<h5::NxWriter>(path_, layout_); }
  void write(size_t frame, const integ::Pattern& p) { writer_->write(frame, p); }
  void close() {
    writer_->close();
    writer_.reset();
  }

 private:
  std::filesystem::path path_;
  h5::NxLayout layout_;
  std::unique_ptr<h5::NxWriter> writer_;
};

// Receives one run's frames: keeps the patterns for validation, writes them (HDF5) when asked, counts failures,
// moves the progress line.
struct Runner::Sink : strat::FrameSink {
  PatternSet* patterns = nullptr;
  RowOutput* output = nullptr;
  Progress* progress = nullptr;
  size_t ok = 0, failed = 0;
  std::vector<FrameError> errors;

  void pattern(size_t frame, const integ::Pattern& p) override {
    patterns->store(frame, p);
    if (output) output->write(frame, p);
    ++ok;
    if (progress) progress->add_frames();
  }
  void error(size_t frame, const std::string& file, const std::string& reason) override {
    ++failed;
    if (errors.size() < kMaxListedErrors) errors.push_back({file, reason});
    if (progress) progress->add_frames();
  }
};

Runner::Runner(const Dataset& ds, RunnerOptions opt, ocl::DeviceContext* device, const std::atomic<bool>* stop,
               Progress* progress)
    : ds_(ds), opt_(std::move(opt)), device_(device), stop_(stop), progress_(progress) {}

Runner::~Runner() = default;

std::string Runner::device_name() const {
  if (!device_) return "none";
  if (opt_.extra_devices.empty()) return device_->name();
  return device_->name() + " + " + std::to_string(opt_.extra_devices.size()) + " more (opencl:all)";
}
bool Runner::device_is_cpu() const { return device_ && !device_->is_gpu(); }

const PatternSet& Runner::reference() {
  if (reference_) return *reference_;
  if (!opt_.quiet) std::fprintf(stderr, "reference: sequential, scalar decoder, plain CSR integrator (CPU)\n");
  auto strategy = strat::find_strategy("sequential").make();
  Sink sink;
  PatternSet ref;
  ref.reset(ds_.files.size(), static_cast<size_t>(ds_.setup.csr.bins));
  sink.patterns = &ref;
  sink.progress = progress_;
  if (progress_) progress_->start_row(rows_done_, "reference (scalar decoder, plain CSR)", ds_.files.size());
  strat::RunContext ctx;
  ctx.source = ds_.source.get();
  ctx.setup = &ds_.setup;
  ctx.opt.reference = true;
  ctx.sink = &sink;
  ctx.stop = stop_;
  strategy->prepare(ctx);
  strategy->run(ctx);
  if (stop_ && stop_->load()) throw Interrupted();
  if (sink.ok == 0)
    throw Error(ds_.dir.string(), "", "the reference run reduced no frame (" + std::to_string(sink.failed) +
                                          " failed" +
                                          (sink.errors.empty() ? "" : ", first: " + sink.errors[0].file + ": " +
                                                                           sink.errors[0].reason) +
                                          ")");
  reference_ = std::move(ref);
  return *reference_;
}

// Hot: read every file once; cold: evict every file. Returns the resident fraction measured right after, over the
// files that can be opened: a frame that cannot (deleted, unreadable) is left to the run, which reports it.
double Runner::prepare_cache(CacheMode mode) {
  std::vector<std::string> skipped;
  if (mode == CacheMode::hot) {
    warm(ds_.files, &skipped);
  } else if (!opt_.skip_eviction) {
    drop_caches_done_ |= evict(ds_.files, opt_.drop_caches, &skipped);
  }
  return residency(ds_.files, &skipped).fraction();
}

void Runner::keep_trace(const std::string& row_id, const StageProfiler& prof) {
  auto events = prof.events();
  if (events.empty()) return;
  const int lane0 = (++trace_rows_) * 1000;
  const double gap = 0.001;
  double t_end = trace_end_;
  for (auto& e : events) {
    e.t0 += trace_end_ + gap;
    e.t1 += trace_end_ + gap;
    e.thread += lane0;
    t_end = std::max(t_end, e.t1);
    trace_events_.push_back(e);
  }
  for (auto& e : events) {
    if (trace_names_.count(e.thread)) continue;
    const int t = e.thread - lane0;
    auto it = prof.thread_names().find(t);
    trace_names_[e.thread] =
        row_id + ": " + (it != prof.thread_names().end() ? it->second : "thread " + std::to_string(t));
  }
  trace_end_ = t_end;
}

std::string default_label(const RowSpec& s) {
  const auto& info = strat::find_strategy(s.strategy);
  std::ostringstream o;
  o << info.name;
  if (info.uses_readers && s.opt.readers > 0) o << " (" << s.opt.readers << " readers)";
  if (!info.needs_device) o << ", " << (s.opt.integrator == strat::Integrator::gpu ? "GPU" : "CPU") << " integration";
  o << ", " << (s.cache == CacheMode::cold ? "SSD (cold)" : "MEM (hot)");
  return o.str();
}

ResultRow Runner::run_row(const RowSpec& spec) {
  if (opt_.mpi && opt_.mpi->size() > 1) return run_row_mpi(spec);
  const auto& info = strat::find_strategy(spec.strategy);
  const bool on_device = row_uses_device(spec);
  ResultRow row;
  row.strategy = info.name;
  if (info.uses_readers) row.readers = spec.opt.readers;
  row.integrator = on_device ? "gpu" : "cpu";
  row.source = source_name(spec.cache);
  row.id = row_id_of(spec);
  row.label = spec.label.empty() ? default_label(spec) : spec.label;
  row.device = on_device ? device_name() : "cpu";
  row.device_is_cpu_opencl = on_device && device_is_cpu();
  row.frames = ds_.files.size();

  auto fail = [&](const std::string& why) {
    row.valid = false;
    row.validated = false;
    row.invalid_reasons.push_back(why);
    if (!opt_.quiet) std::fprintf(stderr, "%-28s FAILED: %s\n", row.id.c_str(), why.c_str());
    ++rows_done_;
    return row;
  };
  if (on_device && !device_)
    return fail("needs an OpenCL device: " +
                (opt_.no_device_reason.empty() ? std::string("none was opened (--device)") : opt_.no_device_reason));

  const PatternSet& ref = reference();

  StageProfiler prof;
  PatternSet got;
  Sink sink;
  sink.patterns = &got;
  sink.progress = progress_;
  std::unique_ptr<RowOutput> output;
  if (opt_.write) output = std::make_unique<RowOutput>(opt_.out_dir / "patterns" / (row.id + ".h5"), ds_);

  strat::RunContext ctx;
  ctx.source = ds_.source.get();
  ctx.setup = &ds_.setup;
  ctx.device = on_device ? device_ : nullptr;
  if (on_device) ctx.extra_devices = opt_.extra_devices;
  ctx.opt = spec.opt;
  ctx.sink = &sink;
  ctx.profiler = &prof;
  ctx.stop = stop_;
  auto strategy = info.make();
  try {
    strategy->prepare(ctx);
  } catch (const std::exception& e) {
    return fail(std::string("prepare failed: ") + e.what());
  }

  const int total_runs = opt_.warmup + opt_.repeats;
  std::vector<double> fps, wall, residencies;
  std::map<std::string, std::vector<double>> stages;
  double max_diff = 0;
  bool validated = true;
  std::vector<std::string> notes;
  for (int r = 0; r < total_runs; ++r) {
    const bool timed = r >= opt_.warmup;
    const double res = prepare_cache(spec.cache);
    got.reset(ds_.files.size(), static_cast<size_t>(ds_.setup.csr.bins));
    sink.ok = sink.failed = 0;
    sink.errors.clear();
    const bool last = r == total_runs - 1;
    prof.reset();
    if (opt_.trace && last) prof.record_events(ds_.files.size() * 16 + 1024);
    if (progress_) {
      std::string what = timed ? "run " + std::to_string(r - opt_.warmup + 1) + "/" + std::to_string(opt_.repeats)
                               : "warm-up";
      progress_->start_row(rows_done_, row.id + ", " + what, ds_.files.size());
    }
    double seconds = 0;
    try {
      if (output) output->open();
      const double t0 = prof.now();
      strategy->run(ctx);
      if (output) {
        const double tw = prof.now();
        output->close();
        prof.add(Stage::write, tw, prof.now(), 0, 0);
      }
      seconds = prof.now() - t0;
    } catch (const std::exception& e) {
      if (stop_ && stop_->load()) throw Interrupted();
      return fail(std::string("run failed: ") + e.what());
    }
    if (stop_ && stop_->load()) throw Interrupted();

    const Comparison c = compare_patterns(ref, got);
    max_diff = std::max(max_diff, c.max_rel_diff);
    if (!c.ok()) {
      validated = false;
      char text[96];
      std::snprintf(text, sizeof text, "output differs from the reference: max relative difference %.3g > %.0e (",
                    c.max_rel_diff, kValidationTolerance);
      notes.push_back(text + c.worst + ")");
    }
    // A frame this run failed (reported, with its reason) is missing too: it makes the row invalid through the
    // failed-frames reason; "validated" says whether what the row did reduce matches, and nothing else is missing.
    if (c.frames_missing > sink.failed) {
      validated = false;
      notes.push_back(std::to_string(c.frames_missing - sink.failed) +
                      " frames the reference reduced are missing (neither a pattern nor an error)");
    }
    if (c.frames_compared == 0) {
      validated = false;
      notes.push_back("no frame could be compared with the reference");
    }
    if (!timed) continue;
    residencies.push_back(res);
    wall.push_back(seconds);
    fps.push_back(seconds > 0 ? static_cast<double>(sink.ok) / seconds : 0.0);
    for (auto& [k, v] : prof.per_frame_ms(ds_.files.size())) stages[k].push_back(v);
    row.failed_frames = sink.failed;
    if (row.errors.empty()) row.errors = sink.errors;
    if (last && opt_.trace) keep_trace(row.id, prof);
  }
  ++rows_done_;

  row.fps = summarize_fps(fps);
  row.wall_s.runs = wall;
  row.wall_s.median = median(wall);
  for (auto& [k, v] : stages) row.stages_ms[k] = median(v);
  row.residency_runs = residencies;
  row.residency_before = *std::min_element(residencies.begin(), residencies.end());
  row.max_rel_diff = max_diff;
  row.validated = validated;
  // Failed frames first: when a frame fails (unreadable, MD5 mismatch, bad stream) that is the headline, not the
  // validation's consequence of it.
  if (row.failed_frames > 0)
    row.invalid_reasons.push_back(std::to_string(row.failed_frames) + " of " + std::to_string(row.frames) +
                                  " frames failed to read or decode" +
                                  (row.errors.empty() ? std::string()
                                                      : " (first: " + row.errors[0].file + ": " +
                                                            row.errors[0].reason + ")"));
  // Each reason once, in the order first seen.
  for (auto& n : notes)
    if (std::find(row.invalid_reasons.begin(), row.invalid_reasons.end(), n) == row.invalid_reasons.end())
      row.invalid_reasons.push_back(n);
  if (spec.cache == CacheMode::cold) {
    const double worst = *std::max_element(residencies.begin(), residencies.end());
    if (worst > kColdMaxResident) {
      std::string why = "cold row had " + std::to_string(static_cast<int>(worst * 100 + 0.5)) +
                        "% of the dataset resident before a run (limit 1%)";
      if (!eviction_possible(ds_.dir)) why += ": " + filesystem_type(ds_.dir) + " cannot evict pages";
      row.invalid_reasons.push_back(why);
    }
  } else {
    const double worst = row.residency_before;
    if (worst < kHotMinResident)
      row.invalid_reasons.push_back("hot row had only " + std::to_string(static_cast<int>(worst * 100)) +
                                    "% of the dataset resident before a run (needs 99%)");
  }
  row.valid = row.invalid_reasons.empty();
  if (!opt_.quiet) {
    std::fprintf(stderr, "%-28s %9.1f fps (MAD %.1f)  %s\n", row.id.c_str(), row.fps.median, row.fps.mad,
                 row.valid ? "valid" : ("INVALID: " + row.invalid_reasons.front()).c_str());
    for (size_t i = 0; i < row.errors.size() && i < 3; ++i)
      std::fprintf(stderr, "    failed: %s: %s\n", row.errors[i].file.c_str(), row.errors[i].reason.c_str());
  }
  return row;
}

ReadBound measure_cold_read(const Dataset& ds, int threads, bool drop_caches, bool* drop_caches_done) {
  ReadBound b;
  b.threads = std::max(1, threads);
  std::vector<std::string> skipped;
  const bool dropped = evict(ds.files, drop_caches, &skipped);
  if (drop_caches_done) *drop_caches_done |= dropped;
  b.resident_before = residency(ds.files, &skipped).fraction();
  std::vector<std::vector<std::filesystem::path>> parts(static_cast<size_t>(b.threads));
  for (size_t i = 0; i < ds.files.size(); ++i) parts[i % parts.size()].push_back(ds.files[i]);
  std::vector<std::vector<std::string>> unread(parts.size());  // per thread: files that could not be read
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::exception_ptr failure;
  std::mutex mu;
  for (size_t k = 0; k < parts.size(); ++k)
    pool.emplace_back([&part = parts[k], &skip = unread[k], &failure, &mu] {
      try {
        warm(part, &skip);
      } catch (...) {
        std::lock_guard<std::mutex> l(mu);
        failure = std::current_exception();
      }
    });
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t read = ds.files.size();
  for (auto& u : unread) read -= u.size();
  b.mb_per_s = static_cast<double>(ds.bytes) / 1e6 / b.seconds;
  b.frames_per_s = static_cast<double>(read) / b.seconds;
  return b;
}

ReadBoundSweep measure_read_bound(const Dataset& ds, bool drop_caches, bool* drop_caches_done) {
  ReadBoundSweep s;
  // More threads than files cannot have more requests in flight.
  const int most = static_cast<int>(std::min<size_t>(
      ds.files.size(), static_cast<size_t>(std::max(16, 4 * static_cast<int>(std::thread::hardware_concurrency())))));
  for (int t = 1; t == 1 || t <= most; t *= 2) {
    s.sweep.push_back(measure_cold_read(ds, t, drop_caches, drop_caches_done));
    if (s.sweep.back().frames_per_s > s.best.frames_per_s) s.best = s.sweep.back();
    // Past the best by two doublings: more requests in flight no longer help.
    if (s.sweep.size() >= 3 && s.best.threads * 4 <= t) break;
  }
  return s;
}

nlohmann::json ReadBoundSweep::to_json() const {
  auto one = [](const ReadBound& b) {
    return nlohmann::json{{"threads", b.threads},
                          {"seconds", b.seconds},
                          {"mb_per_s", b.mb_per_s},
                          {"frames_per_s", b.frames_per_s},
                          {"resident_before", b.resident_before}};
  };
  nlohmann::json all = nlohmann::json::array();
  for (const auto& b : sweep) all.push_back(one(b));
  return {{"best", one(best)}, {"sweep", std::move(all)}};
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_sigint(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process
}
}  // namespace

const std::atomic<bool>& install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
  return g_stop;
}

}  // namespace xrd::harness
