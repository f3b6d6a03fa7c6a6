// Runs rows: cache preparation and residency, warm-up + timed repeats, validation against the reference,
// summary into a results.json row. See runner.hpp.
#include "harness/runner.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>
#include <cstdio>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/enum_names.hpp"
#include "harness/cache.hpp"
#include "harness/environment.hpp"
#include "datasets/manifest.hpp"
#include "harness/h5_process.hpp"
#include "harness/h5_writer.hpp"
#include "harness/mpi.hpp"
#include "harness/sinks.hpp"
#include "harness/stats.hpp"
#include "base/error.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

namespace {
constexpr EnumName<CacheMode> kCacheModeNames[] = {{CacheMode::hot, "hot"}, {CacheMode::cold, "cold"}};
constexpr EnumName<CacheMode> kSourceNames[] = {{CacheMode::hot, "MEM"}, {CacheMode::cold, "SSD"}};

// fdatasync of a file written: "" when it is on the disk, else why not (naming the file).
std::string sync_to_disk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path.string() + ": cannot open it to flush it: " + std::strerror(errno);
  std::string err;
  if (::fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS)  // EINVAL/EROFS: nothing a sync could do there
    err = path.string() + ": fdatasync failed: " + std::strerror(errno);
  ::close(fd);
  return err;
}
}  // namespace

const char* source_name(CacheMode c) { return enum_name(kSourceNames, c); }
CacheMode parse_cache_mode(const std::string& s) { return parse_enum(kCacheModeNames, s, "cache"); }

bool row_uses_device(const RowSpec& spec) {
  return strategies::find_strategy(spec.strategy).needs_device || spec.opt.integrator == strategies::Integrator::gpu;
}

std::string row_id_of(const RowSpec& spec) {
  if (!spec.id.empty()) return spec.id;
  const auto& info = strategies::find_strategy(spec.strategy);
  return row_id(info.name, info.uses_readers ? std::optional<int>(spec.opt.readers) : std::nullopt,
                row_uses_device(spec) ? "gpu" : "cpu", source_name(spec.cache));
}

h5::ScanLayout scan_layout_of(const Dataset& ds, const h5::ScanLayout& given) {
  const size_t frames = ds.source ? ds.source->size() : ds.files.size();
  if (given.active()) {
    if (frames > given.rotations * given.translations)
      throw Error(ds.dir.string(), "--scan-shape",
                  std::to_string(frames) + " frames do not fit " + std::to_string(given.rotations) + " rotations x " +
                      std::to_string(given.translations) + " translations");
    return given;
  }
  h5::ScanLayout s;
  if (!ds.manifest.is_object() || !ds.manifest.contains("scan") || ds.manifest["scan"].is_null() || frames == 0)
    return s;
  const manifest::Scan m = manifest::scan_from_json(ds.manifest["scan"], (ds.dir / manifest::kFileName).string());
  s.translations = m.translations;
  s.rotations = std::min(m.rotations, (frames + m.translations - 1) / m.translations);
  if (m.rotation_deg.size() >= s.rotations)
    s.rotation.assign(m.rotation_deg.begin(), m.rotation_deg.begin() + static_cast<std::ptrdiff_t>(s.rotations));
  s.rotation_units = "deg";
  s.translation = m.translation;
  if (m.translation_units == "mm" || m.translation_units.empty()) {
    s.translation_units = m.translation_units;
  } else {  // not a NeXus unit ("sample radii"): said in long_name
    s.translation_units.clear();
    s.translation_label = "translation (" + m.translation_units + ")";
  }
  if (frames > s.rotations * s.translations) return h5::ScanLayout{};  // the manifest does not describe these frames
  return s;
}

h5::NxLayout row_pattern_layout(const Dataset& ds, const h5::ScanLayout& given, const std::string& row_id) {
  h5::NxLayout layout;
  layout.frames = ds.source ? ds.source->size() : ds.files.size();
  layout.radial_unit = integration::to_string(ds.setup.csr.unit);
  layout.radial = ds.setup.csr.radial;
  for (size_t i = 0; i < layout.frames; ++i)
    layout.source_files.push_back(ds.source ? ds.source->origin(i) : ds.files[i].string());
  layout.scan = scan_layout_of(ds, given);
  layout.program = "xrdbench " XRD_VERSION;
  h5::ReductionInputs in;
  in.program = "xrdbench (row " + row_id + ")";
  in.poni = ds.poni;
  in.mask = ds.mask;
  in.dark = ds.dark;
  in.flat = ds.flat;
  in.options = ds.integration;
  in.engine = row_id;
  in.source_dir = ds.dir;
  layout.process = h5::describe_reduction(in);
  return layout;
}

// The patterns file read back and compared with the reference: every frame the run reduced must be valid in the
// file and equal to the reference, every failed frame invalid with NaN rows. Returns the problems (empty: good).
std::vector<std::string> check_patterns_file(const std::filesystem::path& path, const PatternSet& ref,
                                    const std::vector<uint8_t>& failed_frames, size_t ok) {
  std::vector<std::string> problems;
  h5::NxPatterns f;
  try {
    f = h5::read_patterns(path);
  } catch (const std::exception& e) {
    return {std::string("the patterns file cannot be read back: ") + e.what()};
  }
  const size_t frames = ref.frames(), bins = ref.bins();
  // The scan layout may hold more cells than frames (the last rotation cut short): those must be invalid.
  if (f.bins != bins || f.frames < frames) {
    return {"the patterns file read back has " + std::to_string(f.frames) + " x " + std::to_string(f.bins) +
            " patterns, expected " + std::to_string(frames) + " x " + std::to_string(bins) + " (" + path.string() +
            ")"};
  }
  PatternSet got;
  got.reset(frames, bins);
  integration::Pattern p;
  p.resize(bins);
  size_t valid = 0, wrong_flags = 0, not_nan = 0;
  for (size_t i = 0; i < f.frames; ++i) {
    const bool reduced = i < frames && !failed_frames[i];
    if (f.valid[i]) ++valid;
    if (f.valid[i] != (reduced ? 1 : 0)) ++wrong_flags;
    const double* in = &f.intensity[i * bins];
    if (!reduced) {
      for (size_t b = 0; b < bins; ++b) not_nan += !std::isnan(in[b]);
      continue;
    }
    std::copy(in, in + bins, p.intensity.begin());
    if (!f.count.empty()) std::copy(&f.count[i * bins], &f.count[i * bins] + bins, p.count.begin());
    got.store(i, p);
  }
  if (valid != ok || wrong_flags)
    problems.push_back("the patterns file read back marks " + std::to_string(valid) + " frames valid, the run reduced " +
                       std::to_string(ok) + " (" + std::to_string(wrong_flags) + " flags wrong; " + path.string() + ")");
  if (not_nan)
    problems.push_back("the patterns file read back has " + std::to_string(not_nan) +
                       " values that are not NaN in the rows of invalid frames (" + path.string() + ")");
  if (f.count.empty()) problems.push_back("the patterns file read back has no count dataset (" + path.string() + ")");
  const Comparison c = compare_patterns(ref, got);
  if (!c.ok()) problems.push_back(c.differs_note("the patterns file read back"));
  if (c.frames_missing > 0)
    problems.push_back("the patterns file read back lacks " + std::to_string(c.frames_missing) +
                       " frames the reference reduced");
  return problems;
}

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
  if (opt_.mpi && opt_.mpi->size() > 1) {  // computed by the ranks, kept by rank 0 (the others: an empty set)
    reference_mpi();
    return *reference_;
  }
  if (reporter_) reporter_->note("reference: sequential, scalar decoder, plain CSR integrator (CPU)");
  auto strategy = strategies::find_strategy("sequential").make();
  PatternSet ref;
  ref.reset(ds_.frames(), static_cast<size_t>(ds_.setup.csr.bins));
  sinks::SinkOptions so;
  so.keep = &ref;
  so.progress = progress_;
  sinks::RunSinks run_sinks(std::move(so));
  run_sinks.reset(ds_.frames());
  const sinks::Tally& sink = run_sinks.tally();
  if (progress_) progress_->start_row(rows_done_, "reference (scalar decoder, plain CSR)", ds_.frames());
  strategies::RunContext ctx = reference_context(*ds_.source, run_sinks.sink());
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

strategies::RunContext Runner::row_context(const RowSpec& spec, const frames::FrameSource& source, strategies::FrameSink& sink,
                                      StageProfiler& prof) const {
  const bool on_device = row_uses_device(spec);
  strategies::RunContext ctx;
  ctx.source = &source;
  source.set_read_method(spec.opt.read_method);  // --read-method: per row (the source is shared by the rows)
  ctx.codec = ds_.codec;
  ctx.setup = &ds_.setup;
  ctx.device = on_device ? device_ : nullptr;
  if (on_device) ctx.extra_devices = opt_.extra_devices;
  ctx.opt = spec.opt;
  ctx.opt.cold = spec.cache == CacheMode::cold;
  ctx.sink = &sink;
  ctx.profiler = &prof;
  ctx.stop = stop_;
  return ctx;
}

strategies::RunContext Runner::reference_context(const frames::FrameSource& source, strategies::FrameSink& sink) const {
  strategies::RunContext ctx;
  ctx.source = &source;
  ctx.codec = ds_.codec;
  ctx.setup = &ds_.setup;
  ctx.opt.reference = true;
  source.set_read_method(io::ReadMethod::pread);
  ctx.sink = &sink;
  ctx.stop = stop_;
  return ctx;
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
  const auto& info = strategies::find_strategy(s.strategy);
  std::ostringstream o;
  o << info.name;
  if (info.uses_readers && s.opt.readers > 0) o << " (" << s.opt.readers << " readers)";
  if (!info.needs_device) o << ", " << (s.opt.integrator == strategies::Integrator::gpu ? "GPU" : "CPU") << " integration";
  o << ", " << (s.cache == CacheMode::cold ? "SSD (cold)" : "MEM (hot)");
  return o.str();
}

ResultRow Runner::run_row(const RowSpec& spec) {
  ResultRow row = opt_.mpi && opt_.mpi->size() > 1 ? run_row_mpi(spec) : measure_row(spec);
  if (spec.paper) row.paper = spec.paper;
  if (reporter_) reporter_->report_row(row);
  return row;
}

ResultRow Runner::measure_row(const RowSpec& spec) {
  const auto& info = strategies::find_strategy(spec.strategy);
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
  row.frames = ds_.frames();
  row.codec = frames::to_string(ds_.codec);
  row.read_method = io::to_string(spec.opt.read_method);
  row.read_ahead = spec.opt.read_ahead;
  row.threads = strategies::worker_threads(spec.opt.threads);
  const auto load_before = read_load_average();  // results.json's row.load_average (noise warnings)

  auto fail = [&](const std::string& why) {
    row.valid = false;
    row.validated = false;
    row.invalid_reasons.push_back(why);
    ++rows_done_;
    return row;
  };
  if (on_device && !device_)
    return fail("needs an OpenCL device: " +
                (opt_.no_device_reason.empty() ? std::string("none was opened (--device)") : opt_.no_device_reason));

  const PatternSet& ref = reference();

  StageProfiler prof;
  PatternSet got;
  // The row's sinks: validation (every pattern kept), the HDF5 sinogram unless --no-write, the tally.
  sinks::SinkOptions so;
  so.keep = &got;
  so.progress = progress_;
  if (opt_.write) {
    try {
      so.h5 = std::make_unique<sinks::H5File>(opt_.out_dir / "patterns" / (row.id + ".h5"),
                                              row_pattern_layout(ds_, opt_.scan, row.id));
    } catch (const std::exception& e) {
      return fail(std::string("cannot prepare the patterns file: ") + e.what());
    }
  }
  sinks::RunSinks run_sinks(std::move(so));
  sinks::H5File* output = run_sinks.h5();
  const sinks::Tally& sink = run_sinks.tally();

  strategies::RunContext ctx = row_context(spec, *ds_.source, run_sinks.sink(), prof);
  auto strategy = info.make();
  try {
    strategy->prepare(ctx);
  } catch (const std::exception& e) {
    return fail(std::string("prepare failed: ") + e.what());
  }
  row.decoder = strategy->kernels().decoder;
  row.engine = strategy->kernels().engine;
  row.engine_variant = strategy->kernels().engine_variant;

  const int total_runs = opt_.warmup + opt_.repeats;
  std::vector<double> fps, wall, residencies;
  std::map<std::string, std::vector<double>> stages;
  std::map<std::string, std::vector<double>> sink_ms;  // the HDF5 sink's figures per timed run
  size_t sink_max_queued = 0;
  double max_diff = 0;
  bool validated = true;
  std::vector<std::string> notes;
  for (int r = 0; r < total_runs; ++r) {
    const bool timed = r >= opt_.warmup;
    const double res = prepare_cache(spec.cache);
    got.reset(ds_.frames(), static_cast<size_t>(ds_.setup.csr.bins));
    run_sinks.reset(ds_.frames());
    const bool last = r == total_runs - 1;
    prof.reset();
    if (output) prof.set_thread_name(sinks::H5File::kWriteLane, "write (HDF5)");
    if (opt_.trace && last) prof.record_events(ds_.frames() * 16 + 1024);
    if (progress_) {
      std::string what = timed ? "run " + std::to_string(r - opt_.warmup + 1) + "/" + std::to_string(opt_.repeats)
                               : "warm-up";
      progress_->start_row(rows_done_, row.id + ", " + what, ds_.frames(), static_cast<size_t>(r),
                           static_cast<size_t>(total_runs));
    }
    double seconds = 0;
    try {
      // The write stage is timed whole: creating the file, every frame's rows (in the sink), closing it.
      const double t0 = prof.now();
      if (output) {
        output->open();
        prof.add(Stage::write, t0, prof.now(), 0, sinks::H5File::kWriteLane);
      }
      strategy->run(ctx);
      if (output) {
        const double tw = prof.now();
        try {
          output->close();
        } catch (const std::exception& e) {
          if (output->write_error.empty()) output->write_error = e.what();
        }
        prof.add(Stage::write, tw, prof.now(), 0, sinks::H5File::kWriteLane);
      }
      seconds = prof.now() - t0;
    } catch (const std::exception& e) {
      if (stop_ && stop_->load()) throw Interrupted();
      if (output) output->discard();
      return fail(std::string("run failed: ") + e.what());
    }
    if (const std::string write_error = run_sinks.write_error(); !write_error.empty()) {
      // A file whose writes failed (disk full) is not a result: removed, which also frees the space results.json
      // needs.
      const bool removed = output->discard();
      return fail("writing the patterns failed: " + write_error +
                  (removed ? " (the incomplete file was removed)" : ""));
    }
    if (stop_ && stop_->load()) throw Interrupted();

    const Comparison c = compare_patterns(ref, got);
    max_diff = std::max(max_diff, c.max_rel_diff);
    if (!c.ok()) {
      validated = false;
      notes.push_back(c.differs_note("output"));
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
    // What reached the disk, not only what stayed in memory: the last run's file, read back.
    if (output && last) {
      for (auto& problem : check_patterns_file(output->path(), ref, sink.failed_frames, sink.ok)) {
        validated = false;
        notes.push_back(problem);
      }
    }
    if (!timed) continue;
    residencies.push_back(res);
    wall.push_back(seconds);
    fps.push_back(seconds > 0 ? static_cast<double>(sink.ok) / seconds : 0.0);
    for (auto& [k, v] : prof.per_frame_ms(ds_.frames())) stages[k].push_back(v);
    if (output) {
      const sinks::H5File::Stats st = output->stats();
      sink_ms["create_ms"].push_back(st.open_ms);
      sink_ms["waited_ms"].push_back(st.put_wait_ms);
      sink_ms["writer_ms"].push_back(st.write_ms);
      sink_ms["drain_ms"].push_back(st.drain_ms);
      sink_ms["close_ms"].push_back(st.close_ms);
      sink_max_queued = std::max(sink_max_queued, st.max_queued);
    }
    row.failed_frames = sink.failed;
    if (row.errors.empty()) row.errors = sink.errors;
    if (last && opt_.trace) keep_trace(row.id, prof);
  }
  ++rows_done_;
  // The row's sinogram (its last run's file) goes to the disk now, outside the timed runs: it is durable when the row
  // is reported, and its write-back cannot run beside a later row (suspected, not confirmed, as why a GPU row of the
  // full Table 1 slowed run after run on the H200 machine: reports/results/h200/s24/NOTES.md, "writeback").
  if (output)
    if (const std::string err = sync_to_disk(output->path()); !err.empty())
      notes.push_back("the sinogram could not be flushed to the disk: " + err);

  row.fps = summarize_fps(fps);
  row.wall_s.runs = wall;
  row.wall_s.median = median(wall);
  for (auto& [k, v] : stages) row.stages_ms[k] = median(v);
  if (!sink_ms.empty()) {
    row.sink = nlohmann::json::object();
    for (auto& [k, v] : sink_ms) row.sink[k] = median(v);
    row.sink["max_queued"] = sink_max_queued;
  }
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
      if (const std::string obstacle = eviction_obstacle(ds_.files); !obstacle.empty()) why += ": " + obstacle;
      row.invalid_reasons.push_back(why);
    }
  } else {
    const double worst = row.residency_before;
    if (worst < kHotMinResident)
      row.invalid_reasons.push_back("hot row had only " + std::to_string(static_cast<int>(worst * 100)) +
                                    "% of the dataset resident before a run (needs 99%)");
  }
  row.valid = row.invalid_reasons.empty();
  row.load_average = row_load_average_json(load_before, read_load_average());
  return row;
}

ReadBound measure_cold_read(const Dataset& ds, int threads, bool drop_caches, bool* drop_caches_done,
                            io::ReadMethod method) {
  ReadBound b;
  b.threads = std::max(1, threads);
  b.method = method;
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
  std::vector<std::string> fallbacks(parts.size());
  for (size_t k = 0; k < parts.size(); ++k)
    pool.emplace_back([&part = parts[k], &skip = unread[k], &failure, &mu, method, &fb = fallbacks[k]] {
      try {
        if (method == io::ReadMethod::pread) {
          warm(part, &skip);
          return;
        }
        std::vector<uint8_t> buf;
        for (const auto& p : part) {
          try {
            io::FileReader f(p.string(), method);
            if (!f.fallback().empty()) fb = f.fallback();
            (void)f.read_all(buf);
          } catch (const Error&) {
            skip.push_back(p.string());  // as warm() skips what it cannot read: the rows report those files
          }
        }
      } catch (...) {
        std::lock_guard<std::mutex> l(mu);
        failure = std::current_exception();
      }
    });
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& f : fallbacks)
    if (!f.empty()) b.fallback = f;
  size_t read = ds.files.size();
  for (auto& u : unread) read -= u.size();
  b.mb_per_s = static_cast<double>(ds.bytes) / 1e6 / b.seconds;
  // Frames in the files read (CBF: one per file; NXmx: the files' share of the frames).
  const double frames_read =
      ds.files.empty() ? 0 : static_cast<double>(ds.frames()) * static_cast<double>(read) / double(ds.files.size());
  b.frames_per_s = frames_read / b.seconds;
  return b;
}

ReadBoundSweep measure_read_bound(const Dataset& ds, bool drop_caches, bool* drop_caches_done) {
  ReadBoundSweep s;
  // More threads than files cannot have more requests in flight.
  const int most = static_cast<int>(std::min<size_t>(
      ds.files.size(), static_cast<size_t>(std::max(16, 4 * static_cast<int>(std::thread::hardware_concurrency())))));
  for (io::ReadMethod m : {io::ReadMethod::pread, io::ReadMethod::uring, io::ReadMethod::direct}) {
    ReadBound best_m;
    size_t runs = 0;
    for (int t = 1; t == 1 || t <= most; t *= 2) {
      s.sweep.push_back(measure_cold_read(ds, t, drop_caches, drop_caches_done, m));
      ++runs;
      const ReadBound& b = s.sweep.back();
      if (!b.fallback.empty()) break;  // the method is not available here: its figures would be pread's
      if (b.frames_per_s > best_m.frames_per_s) best_m = b;
      if (b.frames_per_s > s.best.frames_per_s) s.best = b;
      // Past this method's best by two doublings: more requests in flight no longer help.
      if (runs >= 3 && best_m.threads * 4 <= t) break;
    }
  }
  return s;
}

nlohmann::json ReadBoundSweep::to_json() const {
  auto one = [](const ReadBound& b) {
    return nlohmann::json{{"threads", b.threads},
                          {"seconds", b.seconds},
                          {"mb_per_s", b.mb_per_s},
                          {"frames_per_s", b.frames_per_s},
                          {"resident_before", b.resident_before},
                          {"method", io::to_string(b.method)},
                          {"fallback", b.fallback.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.fallback)}};
  };
  nlohmann::json all = nlohmann::json::array();
  for (const auto& b : sweep) all.push_back(one(b));
  return {{"best", one(best)}, {"sweep", std::move(all)}};
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  // A second signal of any of the three ends the process the default way.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
}
}  // namespace

const std::atomic<bool>& install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  return g_stop;
}

}  // namespace xrd::harness
