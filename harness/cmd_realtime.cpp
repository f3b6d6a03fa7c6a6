// xrdbench realtime: a detector's stream replayed from a dataset at a fixed rate into a bounded buffer, one or more
// strategies reducing it as frames arrive -> latency, backlog, drops, verdict; --find-max: the highest sustainable
// rate; --detectors x --strategies: the procurement matrix. Writes OUT/results.json with a "realtime" block.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <thread>

#include "datasets/detectors.hpp"
#include "datasets/synth_dataset.hpp"
#include "harness/cli.hpp"
#include "harness/mpi.hpp"
#include "harness/mpi_realtime.hpp"
#include "harness/realtime.hpp"
#include "harness/runner_cli.hpp"
#include "base/error.hpp"

namespace po = boost::program_options;
using namespace xrd::harness;
namespace realtime = xrd::harness::realtime;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
  return s;
}

struct RtArgs {
  double rate = std::nan(""), duration = 5, buffer_gb = 16, max_latency = 500, flush_ms = 5, trial_s = 2;
  size_t frames = 0, buffer_frames = 0, synth_frames = 20;
  std::string detector, detectors, strategies;
  bool find_max = false;
};

void print_trial(const std::string& what, const realtime::Trial& t) {
  std::fprintf(stderr,
               "%s: %s at %.1f Hz, %zu frames, buffer %zu: latency p50 %.1f p90 %.1f p99 %.1f max %.1f ms, backlog "
               "max %zu (%+.1f frames/s), %zu dropped, achieved %.1f Hz, %s\n",
               what.c_str(), t.keeps_up ? "KEEPS UP" : "FALLS BEHIND", t.rate_hz, t.frames, t.buffer_frames,
               t.latency.p50, t.latency.p90, t.latency.p99, t.latency.max, t.backlog_max, t.growth_fps, t.dropped,
               t.achieved_hz, t.invalid_reasons.empty() ? "validated" : ("INVALID: " + t.invalid_reasons[0]).c_str());
  for (auto& r : t.reasons) std::fprintf(stderr, "    %s\n", r.c_str());
}

int realtime_command(int argc, char** argv, const xrd::harness::mpi::Session& world);

int cmd_realtime(int argc, char** argv) {
  // Under mpirun: the stream fanned out round-robin over the ranks (harness/mpi_realtime.cpp).
  xrd::harness::mpi::Session world(argc, argv);
  return world.guard([&] { return realtime_command(argc, argv, world); });
}

int realtime_command(int argc, char** argv, const xrd::harness::mpi::Session& world) {
  BenchArgs a;
  RowArgs r;
  RtArgs o;
  a.out = "out/realtime";
  po::options_description visible("Options"), hidden;
  add_row_options(visible, r);
  visible.add_options()
      ("rate", po::value(&o.rate), "frames per second the detector releases (or --detector's nominal rate)")
      ("detector", po::value(&o.detector),
       ("detector preset: sets the rate to its nominal frame rate (" + xrd::detectors::known_names() + ")").c_str())
      ("duration", po::value(&o.duration)->default_value(5), "seconds of stream (frames = duration x rate)")
      ("frames", po::value(&o.frames)->default_value(0), "frames in the stream (instead of --duration; they cycle "
                                                          "through the dataset)")
      ("buffer-frames", po::value(&o.buffer_frames)->default_value(0),
       "frames the buffer between detector and reduction holds (a frame released into a full buffer is dropped)")
      ("buffer-gb", po::value(&o.buffer_gb)->default_value(16),
       "the buffer in GB of the dataset's largest compressed frame (when --buffer-frames is 0)")
      ("max-latency", po::value(&o.max_latency)->default_value(500),
       "ms: keeping up needs p99 latency (release -> pattern) under this")
      ("flush-ms", po::value(&o.flush_ms)->default_value(5),
       "opencl-batched: submit a partial batch this many ms after its first frame arrived (< 0: wait for a full "
       "batch); lower = less latency, more launches")
      ("find-max", po::bool_switch(&o.find_max),
       "also search the highest sustainable rate (batch run, then bisection on --trial-s runs)")
      ("trial-s", po::value(&o.trial_s)->default_value(2), "seconds of stream per --find-max trial")
      ("strategies", po::value(&o.strategies), "several strategies, comma-separated (instead of --strategy)")
      ("detectors", po::value(&o.detectors),
       "several detector presets, comma-separated: the procurement matrix (detector x strategy -> max sustainable "
       "rate with --find-max, keeps up at the nominal rate yes/no); --dataset may contain {detector}")
      ("synth-frames", po::value(&o.synth_frames)->default_value(20),
       "a --dataset folder with {detector} that does not exist yet is synthesized with this many frames")
      ("dataset", po::value(&a.dataset)->required(), "folder of CBF frames ({detector} is replaced by each preset)")
      ("poni", po::value(&a.poni), "geometry (default: DATASET/geometry.poni)")
      ("mask", po::value(&a.mask), "mask CBF, nonzero = masked (default: DATASET/mask.cbf when present)")
      ("bins", po::value(&a.bins)->default_value(1000), "radial bins")
      ("unit", po::value(&a.unit)->default_value("q_nm^-1"), "radial unit: 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm")
      ("split", po::value(&a.split)->default_value("bbox"), "pixel splitting: no, bbox, full")
      ("dataset-frames", po::value(&a.frames)->default_value(0), "use only the first N dataset frames (0 = all)")
      ("threads", po::value(&a.threads)->default_value(0), "worker threads of the parallel strategies (0 = all cores)")
      ("verify-md5", po::bool_switch(&a.verify_md5), "check every frame's Content-MD5")
      ("read-method", po::value(&a.read_method)->default_value("auto"),
       "how our rows read frame files: auto, pread, mmap, direct, uring (as `run --read-method`)")
      ("out", po::value(&a.out)->default_value("out/realtime"), "output folder: results.json")
      ("quiet", po::bool_switch(&a.quiet), "no per-run lines on stderr")
      ("mpi-timeout", po::value(&a.mpi_timeout)->default_value(600),
       "under mpirun: seconds a rank waits for the others at a barrier before aborting the job (0 = no limit)");
  xrd::cli::add_device_option(visible, a.device, "the device of the GPU strategies");
  int status = 0;
  const xrd::cli::Help help{
      "xrdbench realtime --dataset DIR --strategy NAME (--rate HZ | --detector NAME) "
      "[--duration S | --frames N]\n       [--buffer-frames N | --buffer-gb G] [--max-latency MS] "
      "[--find-max] [--out DIR]\n       xrdbench realtime --dataset 'DIR/{detector}' --detectors A,B "
      "--strategies X,Y --find-max",
      "Replays the dataset as a detector stream: frame i is released at "
      "t0 + i / rate (frames cycle through the\ndataset) into a bounded buffer; a frame released into a "
      "full buffer is dropped. Reports the latency\nrelease -> pattern (p50/p90/p99/max), the backlog over "
      "time, drops, and the verdict: KEEPS UP (no drop,\nbacklog not growing, p99 under --max-latency) or "
      "FALLS BEHIND (with the growth rate and the time until\nthe buffer is full). Every pattern is "
      "validated against the reference. Writes OUT/results.json (its\n\"realtime\" block: "
      "docs/realtime.md). Exit status 0 when every run validated, 3 when one did not, 2 a usage error.\n\n"
       "mpirun -n R xrdbench realtime ...: stream frame i goes to rank i mod R (a detector stream fanned "
       "out to R\nreceivers), each rank with its own buffer; rank 0 writes the aggregate and per-rank "
       "figures and\nOUT/patterns/ROW-mpiR.h5 (docs/mpi.md).",
      {"xrdbench realtime --dataset out/synth-60 --strategy fused --detector pilatus3-2m --find-max"}};
  if (!parse_args(argc, argv, visible, hidden, help, status))
    return status;

  a.threads = xrd::harness::mpi::threads_per_rank(world, a.threads);
  if (!world.is_root()) a.quiet = true;  // rank 0 speaks for the job
  a.results_writer = world.is_root();   // and writes the results
  const bool ranks = world.size() > 1;

  // Checks that need no dataset first: clear errors before any work.
  const bool rate_given = !std::isnan(o.rate);
  if (rate_given && !(o.rate > 0)) throw xrd::Error("", "--rate", "must be a frame rate > 0 frames/s, got " +
                                                                    std::to_string(o.rate));
  std::vector<std::string> det_names = split_list(o.detectors);
  if (!o.detector.empty()) det_names.insert(det_names.begin(), o.detector);
  std::vector<const xrd::detectors::Detector*> dets;
  for (auto& n : det_names) dets.push_back(&xrd::detectors::find(n));
  if (!rate_given && dets.empty()) throw xrd::Error("", "--rate", "give a frame rate (--rate HZ) or a --detector");
  if (!(o.duration > 0) && o.frames == 0) throw xrd::Error("", "--duration", "must be > 0 s (or give --frames)");
  if (o.buffer_frames == 0 && !(o.buffer_gb > 0))
    throw xrd::Error("", "--buffer-gb", "must be > 0 (the buffer must hold at least one frame)");
  if (!(o.max_latency > 0)) throw xrd::Error("", "--max-latency", "must be > 0 ms");
  if (o.find_max && !(o.trial_s > 0)) throw xrd::Error("", "--trial-s", "must be > 0 s");
  std::vector<std::string> strategies = split_list(o.strategies);
  if (strategies.empty()) strategies.push_back(r.strategy);
  std::vector<RowSpec> specs;
  bool want_device = false;
  for (auto& s : strategies) {
    RowArgs rs = r;
    rs.strategy = s;
    specs.push_back(make_row_spec(rs, a));
    specs.back().opt.flush_ms = o.flush_ms;
    want_device = want_device || row_uses_device(specs.back());
  }
  if (dets.empty()) dets.push_back(nullptr);

  const auto& stop = install_interrupt_handler();
  nlohmann::json runs = nlohmann::json::array(), matrix = nlohmann::json::array();
  std::optional<Bench> first;
  int rc = 0;
  bool interrupted = false;
  try {
    for (const auto* det : dets) {
      BenchArgs da = a;
      da.dataset = det ? replace_all(a.dataset, "{detector}", det->name) : a.dataset;
      if (det && da.dataset != a.dataset && !std::filesystem::exists(da.dataset) && world.is_root()) {
        if (!a.quiet)
          std::fprintf(stderr, "realtime: synthesizing %zu %s frames into %s\n", o.synth_frames, det->name.c_str(),
                       da.dataset.c_str());
        xrd::synth::Params p = xrd::synth::for_detector(*det);
        p.frames = o.synth_frames;
        xrd::synth::DatasetOptions so;
        so.out = da.dataset;
        so.threads = std::max(1, int(std::thread::hardware_concurrency()));
        so.tool_version = XRD_VERSION;
        xrd::synth::write_dataset(p, so);
      }
      if (det && da.dataset != a.dataset) world.barrier("the synthesis of " + da.dataset);  // rank 0 made it
      Bench b = open_bench(da, argc, argv, want_device);
      const double rate = rate_given ? o.rate : det->frame_rate_hz;
      const size_t frame_bytes = std::max<size_t>(1, b.ds.source->max_frame_bytes());
      size_t buffer = o.buffer_frames;
      if (buffer == 0) {
        const double n = std::floor(o.buffer_gb * 1e9 / double(frame_bytes));
        if (n < 1)
          throw xrd::Error("", "--buffer-gb", "a buffer of " + std::to_string(o.buffer_gb) +
                                                  " GB is smaller than one frame (" + std::to_string(frame_bytes) +
                                                  " bytes)");
        buffer = size_t(n);
      }
      const size_t frames = o.frames > 0 ? o.frames : realtime::frames_for(rate, o.duration, 1);
      RunnerOptions ro = b.runner_options();
      ro.mpi = &world;  // the reference computed by the ranks, kept by rank 0
      Runner runner(b.ds, ro, b.device.get(), &stop, nullptr);
      ConsoleReporter console(nullptr);
      if (!a.quiet) runner.set_reporter(&console);  // the reference run's line
      const PatternSet& ref = runner.reference();
      for (auto& spec : specs) {
        const std::string id = row_id_of(spec) + (ranks ? "-mpi" + std::to_string(world.size()) : "");
        nlohmann::json run = {{"row", id},
                              {"strategy", spec.strategy},
                              {"detector", det ? nlohmann::json(det->name) : nlohmann::json()},
                              {"dataset", b.ds.dir.string()},
                              {"frame_bytes", frame_bytes},
                              {"buffer_bytes", buffer * frame_bytes},
                              {"flush_ms", spec.strategy == "opencl-batched" ? nlohmann::json(o.flush_ms)
                                                                             : nlohmann::json()}};
        std::optional<realtime::Session> session;
        std::string failure;
        try {
          if (row_uses_device(spec) && !b.device)
            throw xrd::Error("", "", "needs an OpenCL device: " + b.no_device_reason);
          session.emplace(b.ds, spec, b.device.get(), ref, &stop);
        } catch (const Interrupted&) {
          throw;
        } catch (const std::exception& e) {
          failure = e.what();
        }
        std::vector<std::string> why;  // under mpirun: the ranks go on together or skip this strategy together
        if (ranks && !world.all_ok(failure, why, "the preparation of " + id, a.mpi_timeout))
          failure = why.empty() ? "another rank failed to prepare" : why.front();
        if (!failure.empty()) {
          session.reset();
          if (!a.quiet) std::fprintf(stderr, "%s: FAILED: %s\n", id.c_str(), failure.c_str());
          run["error"] = failure;
          runs.push_back(run);
          rc = 3;
          continue;
        }
        std::optional<realtime::Ranks> fan;  // under mpirun: frame i -> rank i mod R
        if (ranks) fan.emplace(*session, world, ref, a.mpi_timeout);
        const realtime::Trial t = fan ? fan->run(rate, frames, buffer, o.max_latency,
                                                 b.out_dir / "patterns" / (id + ".h5"), id)
                                      : session->run(rate, frames, buffer, o.max_latency);
        if (!a.quiet) print_trial(id + (det ? " on " + det->name : ""), t);
        run.update(realtime::to_json(t));
        if (fan) run["mpi"] = fan->mpi_json();
        if (!t.invalid_reasons.empty()) rc = 3;
        std::optional<realtime::FindMax> fm;
        if (o.find_max) {
          fm = fan ? fan->find_max(o.trial_s, buffer, o.max_latency)
                   : realtime::find_max(*session, o.trial_s, buffer, o.max_latency);
          if (!a.quiet)
            std::fprintf(stderr, "%s: max sustainable rate %.1f Hz (bracket %.1f .. %.1f Hz), %.0f%% of the batch "
                                 "%.1f fps, %zu trials of %.1f s\n",
                         id.c_str(), fm->max_rate_hz, fm->lo_hz, fm->hi_hz, 100 * fm->ratio_to_batch, fm->batch_fps,
                         fm->trials.size(), fm->trial_s);
          run["find_max"] = realtime::to_json(*fm);
        } else {
          run["find_max"] = nullptr;
        }
        runs.push_back(run);
        if (det)
          matrix.push_back({{"detector", det->name},
                            {"nominal_hz", det->frame_rate_hz},
                            {"strategy", spec.strategy},
                            {"row", id},
                            {"rate_hz", rate},
                            {"keeps_up_at_nominal", rate == det->frame_rate_hz ? nlohmann::json(t.keeps_up)
                                                                                : nlohmann::json()},
                            {"max_rate_hz", fm ? nlohmann::json(fm->max_rate_hz) : nlohmann::json()},
                            {"batch_fps", fm ? nlohmann::json(fm->batch_fps) : nlohmann::json()},
                            {"validated", t.invalid_reasons.empty()}});
      }
      if (!first) first.emplace(std::move(b));
    }
  } catch (const Interrupted&) {
    interrupted = true;
    rc = 130;
  }
  if (!first || !world.is_root()) return rc;  // rank 0 writes the results, once
  first->results.realtime = {{"schema", realtime::kRealtimeSchema}, {"runs", runs}, {"matrix", matrix}};
  first->results.interrupted = interrupted;
  first->save();
  std::printf("%s\n", (first->out_dir / "results.json").c_str());
  return rc;
}

xrd::cli::CommandRegistrar reg("realtime",
                               "paced detector stream: latency, backlog, drops, keeps up?, max sustainable rate",
                               cmd_realtime);

}  // namespace
