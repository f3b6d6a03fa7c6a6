// One row on the ranks of `mpirun -n R` (Runner::run_row_mpi, see runner.hpp): each rank runs the strategy on its
// contiguous block of the frames (BlockSource); every run starts at a barrier; the patterns of all ranks are gathered
// to rank 0 in frame order, written there (one HDF5 file, as a single process writes it) and validated against the
// single-process reference; aggregate fps = every frame reduced / the time from the start barrier to the last
// rank's end (to rank 0's end of writing when patterns are written). Rank 0 builds the row with per-rank figures.
// Every decision to give up is taken by all ranks together, so no rank is left waiting in a collective.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "harness/cache.hpp"
#include "harness/h5_writer.hpp"
#include "harness/mpi.hpp"
#include "harness/mpi_block_source.hpp"
#include "harness/runner.hpp"
#include "harness/stats.hpp"
#include "base/error.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

namespace {

using nlohmann::json;

// A rank's frames of one run: its block's patterns (intensity, sigma, count per frame, packed for the gather) and
// its failures.
struct BlockSink : strategies::FrameSink {
  size_t bins = 0, frames = 0, first = 0;
  std::vector<uint8_t> present;
  std::vector<double> values;  // per frame: intensity, sigma, count (3 x bins)
  size_t ok = 0, failed = 0;
  std::vector<FrameError> errors;
  Progress* progress = nullptr;

  void reset(size_t n, size_t b, size_t first_frame) {
    frames = n;
    bins = b;
    first = first_frame;
    present.assign(n, 0);
    values.assign(n * 3 * b, 0.0);
    ok = failed = 0;
    errors.clear();
  }
  void pattern(size_t frame, const integration::Pattern& p) override {
    if (frame >= frames || p.intensity.size() != bins || p.count.size() != bins)
      throw Error("", "frame " + std::to_string(first + frame), "pattern outside the rank's block or of wrong size");
    double* v = &values[frame * 3 * bins];
    std::copy(p.intensity.begin(), p.intensity.end(), v);
    if (p.sigma.size() == bins) std::copy(p.sigma.begin(), p.sigma.end(), v + bins);
    std::copy(p.count.begin(), p.count.end(), v + 2 * bins);
    present[frame] = 1;
    ++ok;
    if (progress) progress->add_frames();
  }
  void error(size_t frame, const std::string& file, const std::string& reason) override {
    ++failed;
    if (errors.size() < kMaxListedErrors) errors.push_back({file, reason});
    if (progress) progress->add_frames();
  }
  // present flags, then the values: what rank 0 unpacks in unpack().
  std::vector<uint8_t> pack() const {
    std::vector<uint8_t> out(present.size() + values.size() * sizeof(double));
    std::memcpy(out.data(), present.data(), present.size());
    std::memcpy(out.data() + present.size(), values.data(), values.size() * sizeof(double));
    return out;
  }
};

std::vector<uint8_t> to_bytes(const json& j) {
  const std::string s = j.dump();
  return {s.begin(), s.end()};
}
json from_bytes(const std::vector<uint8_t>& b) { return json::parse(b.begin(), b.end()); }

bool all_ok(const mpi::Session& w, const std::string& my_reason, std::vector<std::string>& reasons,
            const std::string& what, double timeout) {
  return w.all_ok(my_reason, reasons, what, timeout);
}

// Rank 0: calls fn(frame, pattern) for every frame the ranks reduced, in frame order (blocks are consecutive).
template <class Fn>
void unpack(const std::vector<std::vector<uint8_t>>& blocks, size_t n, size_t bins, Fn&& fn) {
  integration::Pattern p;
  p.resize(bins);
  const int ranks = static_cast<int>(blocks.size());
  for (int k = 0; k < ranks; ++k) {
    const mpi::Block b = mpi::block_of(n, k, ranks);
    const auto& bytes = blocks[static_cast<size_t>(k)];
    if (bytes.size() != b.count * (1 + 3 * bins * sizeof(double)))
      throw Error("", "rank " + std::to_string(k), "sent " + std::to_string(bytes.size()) + " bytes of patterns");
    const double* v = reinterpret_cast<const double*>(bytes.data() + b.count);
    for (size_t i = 0; i < b.count; ++i) {
      if (!bytes[i]) continue;
      const double* f = v + i * 3 * bins;
      std::copy(f, f + bins, p.intensity.begin());
      std::copy(f + bins, f + 2 * bins, p.sigma.begin());
      std::copy(f + 2 * bins, f + 3 * bins, p.count.begin());
      fn(b.first + i, p);
    }
  }
}

}  // namespace

// The reference patterns (sequential strategy, scalar decoder, plain CSR integrator) of every frame, computed by the
// ranks on their blocks and gathered to rank 0 (each frame's reference depends on that frame only: the same patterns
// as one process computes, in 1/R of the time). Rank 0 keeps them; the other ranks keep an empty set.
void Runner::reference_mpi() {
  if (reference_) return;
  const mpi::Session& w = *opt_.mpi;
  const size_t n = ds_.source->size(), bins = static_cast<size_t>(ds_.setup.csr.bins);
  const mpi::Block blk = mpi::block_of(n, w.rank(), w.size());
  mpi::BlockSource source(ds_.source, blk.first, blk.count);
  if (reporter_) reporter_->note("reference: sequential, scalar decoder, plain CSR integrator (CPU), on every rank");
  BlockSink sink;
  sink.reset(blk.count, bins, blk.first);
  sink.progress = progress_;
  if (progress_) progress_->start_row(rows_done_, "reference (scalar decoder, plain CSR), rank 0's block", blk.count);
  strategies::RunContext ctx = reference_context(source, sink);
  auto strategy = strategies::find_strategy("sequential").make();
  strategy->prepare(ctx);
  strategy->run(ctx);
  // No time limit: the slowest rank's reference is legitimate work.
  auto blocks = w.gather(sink.pack(), "the reference");
  const uint64_t ok = w.sum(sink.ok);
  PatternSet ref;
  if (w.is_root()) {
    ref.reset(n, bins);
    unpack(blocks, n, bins, [&](size_t frame, const integration::Pattern& p) { ref.store(frame, p); });
    if (ok == 0)
      throw Error(ds_.dir.string(), "", "the reference run reduced no frame on any rank" +
                                            (sink.errors.empty() ? std::string()
                                                                 : " (rank 0's first failure: " + sink.errors[0].file +
                                                                       ": " + sink.errors[0].reason + ")"));
  }
  reference_ = std::move(ref);
}

ResultRow Runner::run_row_mpi(const RowSpec& spec) {
  const mpi::Session& w = *opt_.mpi;
  const double timeout = opt_.mpi_timeout_s;
  const auto& info = strategies::find_strategy(spec.strategy);
  const bool on_device = row_uses_device(spec);
  const size_t n = ds_.frames(), bins = static_cast<size_t>(ds_.setup.csr.bins);
  const mpi::Block blk = mpi::block_of(ds_.source->size(), w.rank(), w.size());
  auto source = std::make_shared<mpi::BlockSource>(ds_.source, blk.first, blk.count);
  const auto files = source->files();

  ResultRow row;
  row.strategy = info.name;
  if (info.uses_readers) row.readers = spec.opt.readers;
  row.read_method = io::to_string(spec.opt.read_method);
  row.read_ahead = spec.opt.read_ahead;
  row.threads = strategies::worker_threads(spec.opt.threads);
  row.integrator = on_device ? "gpu" : "cpu";
  row.source = source_name(spec.cache);
  // The same row on R ranks is another row than on one process: its id says how many.
  row.id = row_id_of(spec) + "-mpi" + std::to_string(w.size());
  row.label = (spec.label.empty() ? default_label(spec) : spec.label) + ", " + std::to_string(w.size()) + " MPI ranks";
  row.device = on_device ? device_name() : "cpu";
  row.device_is_cpu_opencl = on_device && device_is_cpu();
  row.frames = n;

  auto fail = [&](const std::vector<std::string>& why) {
    row.valid = false;
    row.validated = false;
    row.invalid_reasons = why;
    ++rows_done_;
    return row;
  };
  std::vector<std::string> reasons;
  std::string mine;
  if (on_device && !device_)
    mine = "needs an OpenCL device: " +
           (opt_.no_device_reason.empty() ? std::string("none was opened (--device)") : opt_.no_device_reason);
  if (!all_ok(w, mine, reasons, "the device check of " + row.id, timeout)) return fail(reasons);

  reference_mpi();

  StageProfiler prof;
  BlockSink sink;
  sink.progress = progress_;
  strategies::RunContext ctx = row_context(spec, *source, sink, prof);
  auto strategy = info.make();
  mine.clear();
  try {
    strategy->prepare(ctx);
  } catch (const std::exception& e) {
    mine = std::string("prepare failed: ") + e.what();
  }
  if (!all_ok(w, mine, reasons, "the preparation of " + row.id, timeout)) return fail(reasons);
  row.decoder = strategy->kernels().decoder;
  row.engine = strategy->kernels().engine;
  row.engine_variant = strategy->kernels().engine_variant;

  const int total_runs = opt_.warmup + opt_.repeats;
  std::vector<double> agg_fps, agg_wall, gather_write, my_fps, my_wall, residencies;
  std::map<std::string, std::vector<double>> my_stages;
  double max_diff = 0;
  bool validated = true;
  std::vector<std::string> notes;
  std::vector<json> last_ranks;  // rank 0: every rank's figures of the last timed run
  PatternSet got;
  const auto patterns_path = opt_.out_dir / "patterns" / (row.id + ".h5");
  for (int r = 0; r < total_runs; ++r) {
    const bool timed = r >= opt_.warmup;
    double res = 0;
    if (spec.cache == CacheMode::hot)
      warm(files);
    else if (!opt_.skip_eviction)
      evict(files, opt_.drop_caches);
    res = residency(files).fraction();
    sink.reset(blk.count, bins, blk.first);
    prof.reset();
    if (progress_) {
      std::string what = timed ? "run " + std::to_string(r - opt_.warmup + 1) + "/" + std::to_string(opt_.repeats)
                               : "warm-up";
      progress_->start_row(rows_done_, row.id + ", " + what + " (rank 0's block)", blk.count);
    }
    const std::string run_name = row.id + (timed ? " run " + std::to_string(r - opt_.warmup + 1) : " warm-up");
    w.barrier("the start of " + run_name, timeout);
    const double t0 = prof.now();
    mine.clear();
    try {
      strategy->run(ctx);
    } catch (const std::exception& e) {
      mine = std::string("run failed: ") + e.what();
    }
    const double seconds = prof.now() - t0;
    if (stop_ && stop_->load()) mine = "interrupted";
    if (!all_ok(w, mine, reasons, "the end of " + run_name, timeout)) {
      if (stop_ && stop_->load()) throw Interrupted();
      return fail(reasons);
    }
    const double slowest = w.max(seconds, "the end of " + run_name, timeout);

    // The patterns to rank 0, in frame order (ranks hold consecutive blocks), then written there.
    json me = {{"rank", w.rank()},
               {"host", w.host()},
               {"cpus", mpi::cpus_allowed_list()},
               {"threads", spec.opt.threads},
               {"device", on_device ? device_name() : "cpu"},
               {"device_id", on_device && device_ ? device_->info().id() : "cpu"},
               {"first_frame", blk.first},
               {"frames", blk.count},
               {"ok", sink.ok},
               {"failed_frames", sink.failed},
               {"seconds", seconds},
               {"residency_before", res},
               {"stages_ms", prof.per_frame_ms(std::max<size_t>(1, blk.count))}};
    json errs = json::array();
    for (auto& e : sink.errors) errs.push_back({{"file", e.file}, {"reason", e.reason}});
    me["errors"] = errs;
    auto figures = w.gather(to_bytes(me), "the figures of " + run_name, timeout);
    auto blocks = w.gather(sink.pack(), "the patterns of " + run_name, timeout);
    double gw = 0;
    mine.clear();
    if (w.is_root()) {
      got.reset(n, bins);
      std::unique_ptr<h5::NxWriter> out;
      try {
        if (opt_.write) {
          const h5::NxLayout layout = row_pattern_layout(ds_, opt_.scan, row.id);  // scan, NXprocess
          std::filesystem::create_directories(patterns_path.parent_path());
          out = std::make_unique<h5::NxWriter>(patterns_path, layout);
        }
        unpack(blocks, n, bins, [&](size_t frame, const integration::Pattern& p) {
          got.store(frame, p);
          if (out) out->write(frame, p);
        });
        if (out) out->close();
      } catch (const std::exception& e) {
        mine = std::string("gathering or writing the patterns failed: ") + e.what();
      }
      gw = prof.now() - t0 - seconds;
    }
    if (!all_ok(w, mine, reasons, "the writing of " + run_name, timeout)) return fail(reasons);
    if (!w.is_root()) {
      if (timed) {
        my_fps.push_back(seconds > 0 ? static_cast<double>(sink.ok) / seconds : 0.0);
        my_wall.push_back(seconds);
      }
      continue;
    }

    // Rank 0: every frame once (the blocks partition the frames; a frame is a pattern or a failure, never both).
    uint64_t ok = 0, failed = 0;
    double res_min = 1;
    std::vector<FrameError> errors;
    std::vector<json> ranks;
    for (auto& b : figures) {
      json j = from_bytes(b);
      ok += j["ok"].get<uint64_t>();
      failed += j["failed_frames"].get<uint64_t>();
      res_min = std::min(res_min, j["residency_before"].get<double>());
      for (auto& e : j["errors"])
        if (errors.size() < kMaxListedErrors)
          errors.push_back({e["file"], "rank " + std::to_string(j["rank"].get<int>()) + ": " + e["reason"].get<std::string>()});
      ranks.push_back(std::move(j));
    }
    if (ok + failed != n) {
      validated = false;
      notes.push_back("the ranks delivered " + std::to_string(ok + failed) + " frames of " + std::to_string(n));
    }
    const Comparison c = compare_patterns(*reference_, got);
    max_diff = std::max(max_diff, c.max_rel_diff);
    if (!c.ok()) {
      validated = false;
      notes.push_back(c.differs_note("output"));
    }
    if (c.frames_missing > 0) {
      validated = false;
      notes.push_back(std::to_string(c.frames_missing) + " frames the reference reduced are missing");
    }
    if (c.frames_compared == 0) {
      validated = false;
      notes.push_back("no frame could be compared with the reference");
    }
    // What reached the disk: the last run's file, read back (as a single process checks its own).
    if (opt_.write && r == total_runs - 1) {
      std::vector<uint8_t> failed_flags(n, 0);
      for (size_t i = 0; i < n; ++i) failed_flags[i] = got.present(i) ? 0 : 1;
      for (auto& problem : check_patterns_file(patterns_path, *reference_, failed_flags, ok)) {
        validated = false;
        notes.push_back(problem);
      }
    }
    if (!timed) continue;
    // With patterns written, the run ends when rank 0 closed the file; otherwise when the slowest rank finished.
    const double wall = opt_.write ? std::max(slowest, seconds + gw) : slowest;
    agg_wall.push_back(wall);
    agg_fps.push_back(wall > 0 ? static_cast<double>(ok) / wall : 0.0);
    gather_write.push_back(gw);
    residencies.push_back(res_min);
    my_fps.push_back(seconds > 0 ? static_cast<double>(sink.ok) / seconds : 0.0);
    my_wall.push_back(seconds);
    row.failed_frames = failed;
    if (row.errors.empty()) row.errors = errors;
    // Per-rank figures over the timed runs: each rank's fps and wall per run, and its stages (median per run).
    if (last_ranks.empty()) {
      last_ranks = ranks;
      for (auto& j : last_ranks) {
        j["fps_runs"] = json::array();
        j["wall_runs"] = json::array();
        j["stage_runs"] = json::object();
      }
    }
    for (size_t k = 0; k < ranks.size(); ++k) {
      auto& j = last_ranks[k];
      const double s = ranks[k]["seconds"].get<double>();
      j["fps_runs"].push_back(s > 0 ? ranks[k]["ok"].get<double>() / s : 0.0);
      j["wall_runs"].push_back(s);
      for (auto& [stage, ms] : ranks[k]["stages_ms"].items()) j["stage_runs"][stage].push_back(ms);
      j["failed_frames"] = ranks[k]["failed_frames"];
      j["errors"] = ranks[k]["errors"];
      j["ok"] = ranks[k]["ok"];
      j["residency_before"] = std::min(j["residency_before"].get<double>(), ranks[k]["residency_before"].get<double>());
    }
  }
  ++rows_done_;

  // Every rank agrees on validity and validation (rank 0 decides; the exit status is the same on all ranks).
  std::vector<uint8_t> verdict;
  if (!w.is_root()) {
    w.broadcast(verdict, "the verdict of " + row.id, timeout);
    row.valid = verdict.size() == 2 && verdict[0] == 1;
    row.validated = verdict.size() == 2 && verdict[1] == 1;
    row.fps = summarize_fps(my_fps);
    return row;
  }

  row.fps = summarize_fps(agg_fps);
  row.wall_s.runs = agg_wall;
  row.wall_s.median = median(agg_wall);
  row.residency_runs = residencies;
  row.residency_before = *std::min_element(residencies.begin(), residencies.end());
  row.max_rel_diff = max_diff;
  row.validated = validated;
  json per_rank = json::array();
  std::map<std::string, double> stage_sum;  // ms x frames over the ranks
  for (auto& j : last_ranks) {
    const auto fr = j["fps_runs"].get<std::vector<double>>();
    const auto wr = j["wall_runs"].get<std::vector<double>>();
    const FpsStats fs = summarize_fps(fr);
    json stages = json::object();
    for (auto& [stage, runs] : j["stage_runs"].items()) {
      const double m = median(runs.get<std::vector<double>>());
      stages[stage] = m;
      stage_sum[stage] += m * j["frames"].get<double>();
    }
    per_rank.push_back({{"rank", j["rank"]},
                        {"host", j["host"]},
                        {"cpus", j["cpus"]},
                        {"threads", j["threads"]},
                        {"device", j["device"]},
                        {"device_id", j["device_id"]},
                        {"first_frame", j["first_frame"]},
                        {"frames", j["frames"]},
                        {"failed_frames", j["failed_frames"]},
                        {"errors", j["errors"]},
                        {"fps", {{"median", fs.median}, {"mad", fs.mad}, {"runs", fr}}},
                        {"wall_s", {{"median", median(wr)}, {"runs", wr}}},
                        {"residency_before", j["residency_before"]},
                        {"stages_ms", stages}});
  }
  for (auto& [stage, total] : stage_sum) row.stages_ms[stage] = total / static_cast<double>(std::max<size_t>(1, n));
  const double gw_median = median(gather_write);
  if (opt_.write) row.stages_ms["write"] = gw_median * 1000.0 / static_cast<double>(std::max<size_t>(1, n));
  row.mpi = {{"ranks", w.size()},
             {"hosts", w.hosts()},
             {"distribution", "contiguous"},
             {"gather_write_s", gw_median},
             {"per_rank", std::move(per_rank)}};

  for (auto& note : notes)
    if (std::find(row.invalid_reasons.begin(), row.invalid_reasons.end(), note) == row.invalid_reasons.end())
      row.invalid_reasons.push_back(note);
  if (spec.cache == CacheMode::cold) {
    const double worst = *std::max_element(residencies.begin(), residencies.end());
    if (worst > kColdMaxResident)
      row.invalid_reasons.push_back("cold row had " + std::to_string(static_cast<int>(worst * 100 + 0.5)) +
                                    "% of a rank's block resident before a run (limit 1%)");
  } else if (row.residency_before < kHotMinResident) {
    row.invalid_reasons.push_back("hot row had only " + std::to_string(static_cast<int>(row.residency_before * 100)) +
                                  "% of a rank's block resident before a run (needs 99%)");
  }
  if (row.failed_frames > 0)
    row.invalid_reasons.push_back(std::to_string(row.failed_frames) + " of " + std::to_string(row.frames) +
                                  " frames failed to read or decode");
  row.valid = row.invalid_reasons.empty();
  verdict = {static_cast<uint8_t>(row.valid ? 1 : 0), static_cast<uint8_t>(row.validated ? 1 : 0)};
  w.broadcast(verdict, "the verdict of " + row.id, timeout);
  return row;
}

}  // namespace xrd::harness
