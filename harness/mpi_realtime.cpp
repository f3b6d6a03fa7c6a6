// The paced stream fanned out round-robin over the ranks of `mpirun -n R xrdbench realtime` (see mpi_realtime.hpp).
// Every collective here is taken by every rank in the same order with the same arguments; rank 0 alone decides the
// verdict and broadcasts it, so find-max's search takes the same path on every rank.
#include "harness/mpi_realtime.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "harness/h5_writer.hpp"
#include "harness/runner.hpp"
#include "base/error.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness::realtime {

namespace {

using nlohmann::json;

std::vector<uint8_t> to_bytes(const json& j) {
  const std::string s = j.dump();
  return {s.begin(), s.end()};
}
json from_bytes(const std::vector<uint8_t>& b) { return json::parse(b.begin(), b.end()); }

// Frames of a stream of n that rank r of R receives (r, r + R, ...).
size_t share_of(size_t n, int r, int R) {
  const size_t rr = static_cast<size_t>(r), RR = static_cast<size_t>(R);
  return n > rr ? (n - rr + RR - 1) / RR : 0;
}

std::string rate_text(double rate_hz) {
  char s[64];
  if (rate_hz > 0)
    std::snprintf(s, sizeof s, "%.1f Hz", rate_hz);
  else
    std::snprintf(s, sizeof s, "batch rate");
  return s;
}

}  // namespace

Ranks::Ranks(Session& s, const mpi::Session& world, const PatternSet& ref, double timeout_s)
    : s_(s), w_(world), ref_(ref), timeout_(timeout_s) {}

Trial Ranks::run(double rate_hz, size_t frames, size_t buffer_frames, double max_latency_ms,
                 const std::filesystem::path& patterns, const std::string& row_id) {
  const int R = w_.size(), me = w_.rank();
  if (frames < static_cast<size_t>(R))
    throw Error("", "--frames", "a stream of " + std::to_string(frames) + " frames cannot be fanned out over " +
                                    std::to_string(R) + " ranks (each needs at least one frame)");
  const Dataset& ds = s_.dataset();
  const size_t bins = static_cast<size_t>(ds.setup.csr.bins);
  const size_t n = share_of(frames, me, R);

  // This rank's patterns, packed for the gather: present flags, then intensity, sigma, count per frame.
  std::vector<uint8_t> pack(n + n * 3 * bins * sizeof(double), 0);
  std::vector<double> vals(n * 3 * bins, 0.0);
  auto keep = [&](size_t i, const integration::Pattern& p) {
    if (i >= n || p.intensity.size() != bins || p.count.size() != bins)
      throw Error("", "stream frame " + std::to_string(me + i * R), "pattern outside the rank's share or of wrong size");
    double* v = &vals[i * 3 * bins];
    std::copy(p.intensity.begin(), p.intensity.end(), v);
    if (p.sigma.size() == bins) std::copy(p.sigma.begin(), p.sigma.end(), v + bins);
    std::copy(p.count.begin(), p.count.end(), v + 2 * bins);
    pack[i] = 1;
  };
  const std::string what = "the realtime trial at " + rate_text(rate_hz);
  std::vector<PacedSource::FrameTiming> rec;
  Trial mine;
  std::string why;
  try {
    mine = s_.run_share(rate_hz, n, static_cast<size_t>(me), static_cast<size_t>(R), buffer_frames, max_latency_ms,
                        keep, [&] { w_.barrier("the start of " + what, timeout_); }, rec);
  } catch (const Interrupted&) {
    why = "interrupted";
  }
  std::vector<std::string> reasons;
  if (!w_.all_ok(why, reasons, "the end of " + what, timeout_)) throw Interrupted();
  if (!vals.empty()) std::memcpy(pack.data() + n, vals.data(), vals.size() * sizeof(double));

  // Figures, records (release, done, dropped per frame) and patterns to rank 0.
  const ocl::DeviceContext* dev = s_.device();
  json fig = {{"rank", me},
              {"host", w_.host()},
              {"cpus", mpi::cpus_allowed_list()},
              {"threads", s_.spec().opt.threads},
              {"device", dev ? dev->name() : "cpu"},
              {"device_id", dev ? dev->info().id() : "cpu"},
              {"first_stream_frame", me},
              {"stride", R},
              {"frames", n},
              {"trial", to_json(mine, false)}};
  std::vector<double> recs(rec.size() * 3);
  for (size_t i = 0; i < rec.size(); ++i) {
    recs[3 * i] = rec[i].release_s;
    recs[3 * i + 1] = rec[i].done_s;
    recs[3 * i + 2] = rec[i].dropped ? 1.0 : 0.0;
  }
  std::vector<uint8_t> rec_bytes(recs.size() * sizeof(double));
  if (!recs.empty()) std::memcpy(rec_bytes.data(), recs.data(), rec_bytes.size());
  auto figures = w_.gather(to_bytes(fig), "the figures of " + what, timeout_);
  auto records = w_.gather(rec_bytes, "the records of " + what, timeout_);
  auto blocks = w_.gather(pack, "the patterns of " + what, timeout_);

  Trial t;
  t.rate_hz = rate_hz;
  t.frames = frames;
  t.buffer_frames = buffer_frames;
  t.max_latency_ms = max_latency_ms;
  if (w_.is_root()) {
    std::vector<json> figs;
    for (auto& b : figures) figs.push_back(from_bytes(b));
    for (int k = 0; k < R; ++k) {
      const size_t nk = share_of(frames, k, R);
      const auto& rb = records[static_cast<size_t>(k)];
      const auto& pb = blocks[static_cast<size_t>(k)];
      if (rb.size() != nk * 3 * sizeof(double) || pb.size() != nk * (1 + 3 * bins * sizeof(double)))
        throw Error("", "rank " + std::to_string(k), "sent " + std::to_string(rb.size()) + " bytes of records and " +
                                                         std::to_string(pb.size()) + " bytes of patterns for " +
                                                         std::to_string(nk) + " frames");
    }
    // The stream in frame order: frame g is frame g / R of rank g mod R.
    std::vector<PacedSource::FrameTiming> merged(frames);
    PatternSet got;
    got.reset(frames, bins);
    integration::Pattern p;
    p.resize(bins);
    std::unique_ptr<h5::NxWriter> out;
    const size_t m = ds.source->size();
    try {
      if (!patterns.empty()) {
        h5::NxLayout layout = row_pattern_layout(ds, h5::ScanLayout{}, row_id);
        layout.frames = frames;
        layout.scan = h5::ScanLayout{};  // a stream, not the dataset's scan
        layout.source_files.clear();
        for (size_t g = 0; g < frames; ++g)
          layout.source_files.push_back(ds.source->origin(g % m) + " (stream frame " + std::to_string(g) + ")");
        std::filesystem::create_directories(patterns.parent_path());
        out = std::make_unique<h5::NxWriter>(patterns, layout);
      }
      for (size_t g = 0; g < frames; ++g) {
        const size_t k = g % static_cast<size_t>(R), i = g / static_cast<size_t>(R), nk = share_of(frames, int(k), R);
        double rv[3];
        std::memcpy(rv, records[k].data() + 3 * i * sizeof(double), sizeof rv);
        merged[g].release_s = rv[0];
        merged[g].done_s = rv[1];
        merged[g].dropped = rv[2] > 0.5;
        merged[g].decided = true;
        if (!blocks[k][i]) continue;
        const uint8_t* base = blocks[k].data() + nk + i * 3 * bins * sizeof(double);
        std::memcpy(p.intensity.data(), base, bins * sizeof(double));
        std::memcpy(p.sigma.data(), base + bins * sizeof(double), bins * sizeof(double));
        std::memcpy(p.count.data(), base + 2 * bins * sizeof(double), bins * sizeof(double));
        got.store(g, p);
        if (out) out->write(g, p);
      }
      if (out) out->close();
    } catch (const std::exception& e) {
      t.invalid_reasons.push_back(std::string("gathering or writing the patterns failed: ") + e.what());
      out.reset();
    }

    // The aggregate: counts summed, errors and invalid reasons of each rank (prefixed), the summary over every frame.
    json per_rank = json::array();
    std::vector<std::string> behind;
    for (auto& j : figs) {
      const json& tr = j["trial"];
      const std::string rk = "rank " + std::to_string(j["rank"].get<int>());
      t.reduced += tr["reduced"].get<size_t>();
      t.failed += tr["failed"].get<size_t>();
      for (auto& e : tr["errors"])
        if (t.errors.size() < kMaxListedErrors) t.errors.push_back({e["file"], rk + ": " + e["reason"].get<std::string>()});
      for (auto& r : tr["invalid_reasons"]) t.invalid_reasons.push_back(rk + ": " + r.get<std::string>());
      if (!tr["verdict"]["keeps_up"].get<bool>()) {
        std::string why_behind;
        for (auto& r : tr["verdict"]["reasons"]) why_behind += (why_behind.empty() ? "" : "; ") + r.get<std::string>();
        behind.push_back(rk + " on " + j["host"].get<std::string>() + " falls behind: " + why_behind);
      }
      json pr = {{"rank", j["rank"]},
                 {"host", j["host"]},
                 {"cpus", j["cpus"]},
                 {"threads", j["threads"]},
                 {"device", j["device"]},
                 {"device_id", j["device_id"]},
                 {"first_stream_frame", j["first_stream_frame"]},
                 {"stride", j["stride"]},
                 {"frames", j["frames"]}};
      for (const char* k : {"reduced", "failed", "dropped", "wall_s", "achieved_hz", "latency_ms", "backlog",
                            "invalid_reasons", "errors"})
        pr[k] = tr[k];
      pr["keeps_up"] = tr["verdict"]["keeps_up"];
      pr["reasons"] = tr["verdict"]["reasons"];
      per_rank.push_back(std::move(pr));
    }
    summarize(t, merged);
    // Each rank's buffer fills at its own growth: the job's buffer is full when the first rank's is.
    t.time_to_full_s.reset();
    for (auto& j : figs)
      if (const json& ttf = j["trial"]["verdict"]["time_to_full_s"]; ttf.is_number())
        t.time_to_full_s = std::min(t.time_to_full_s.value_or(ttf.get<double>()), ttf.get<double>());
    // The job keeps up only if every rank does.
    for (auto& b : behind) t.reasons.push_back(b);
    t.keeps_up = t.reasons.empty();
    if (!t.keeps_up) t.headroom_ms.reset();
    validate(t, got, ref_);
    if (!patterns.empty() && out == nullptr && t.invalid_reasons.empty())
      t.invalid_reasons.push_back("the patterns file was not written");
    if (!patterns.empty() && std::filesystem::exists(patterns) &&
        std::none_of(t.invalid_reasons.begin(), t.invalid_reasons.end(),
                     [](const std::string& s) { return s.find("writing the patterns failed") != std::string::npos; })) {
      // What reached the disk, read back against the reference of each stream frame (dataset frame g mod m).
      PatternSet refx;
      refx.reset(frames, bins);
      integration::Pattern q;
      q.resize(bins);
      for (size_t g = 0; g < frames && ref_.frames() > 0; ++g) {
        const size_t f = g % ref_.frames();
        if (!ref_.present(f)) continue;
        std::copy(ref_.intensity(f), ref_.intensity(f) + bins, q.intensity.begin());
        std::copy(ref_.count(f), ref_.count(f) + bins, q.count.begin());
        refx.store(g, q);
      }
      std::vector<uint8_t> not_reduced(frames, 0);
      for (size_t g = 0; g < frames; ++g) not_reduced[g] = got.present(g) ? 0 : 1;
      for (auto& problem : check_patterns_file(patterns, refx, not_reduced, t.reduced)) {
        t.validated = false;
        t.invalid_reasons.push_back(problem);
      }
    }
    mpi_ = {{"ranks", R},
            {"hosts", w_.hosts()},
            {"distribution", "round-robin"},
            {"buffer", "per rank"},
            {"patterns", patterns.empty() ? json() : json(patterns.string())},
            {"per_rank", std::move(per_rank)}};
  }

  // Rank 0's verdict to every rank: the same decisions (find-max's next rate, the exit status) everywhere.
  std::vector<uint8_t> verdict;
  if (w_.is_root())
    verdict = to_bytes({{"keeps_up", t.keeps_up}, {"valid", t.invalid_reasons.empty()}, {"achieved_hz", t.achieved_hz}});
  w_.broadcast(verdict, "the verdict of " + what, timeout_);
  if (!w_.is_root()) {
    const json v = from_bytes(verdict);
    t.keeps_up = v["keeps_up"].get<bool>();
    t.achieved_hz = v["achieved_hz"].get<double>();
    t.validated = v["valid"].get<bool>();
    if (!t.validated) t.invalid_reasons.push_back("invalid (rank 0 says why)");
  }
  return t;
}

FindMax Ranks::find_max(double trial_s, size_t buffer_frames, double max_latency_ms) {
  return realtime::find_max([&](double rate, size_t frames, size_t buffer, double max_latency) {
    return run(rate, frames, buffer, max_latency);
  }, trial_s, buffer_frames, max_latency_ms);
}

}  // namespace xrd::harness::realtime
