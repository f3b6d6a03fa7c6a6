// xrdbench profile: where the time goes, stage by stage (the paper's §2.3 profile of its sequential pipeline:
// 43 s for 1202 frames, of which integration 29 s (13 s on the GPU), byte-offset decompression 4.9 s, MD5 4.7 s,
// reading ~4-5 ms per frame from SSD), for any strategy, beside the paper's figures per frame.
#include <cstdio>

#include "harness/cli.hpp"
#include "harness/runner_cli.hpp"
#include "harness/trace.hpp"
#include "base/error.hpp"

namespace po = boost::program_options;
using namespace xrd::harness;

namespace {

constexpr double kPaperFrames = 1202;
struct PaperStage {
  const char* stage;
  double seconds;  // for 1202 frames; < 0: not given
  const char* note;
};
// shared/paper/facts.md: the profile of the sequential pipeline (CPU integration) on 1202 frames.
constexpr PaperStage kPaperProfile[] = {
    {"read", -1, "~4-5 ms/frame from SSD"},
    {"md5", 4.7, ""},
    {"decode", 4.9, ""},
    {"integrate", 29.0, "13 s on the GPU"},
    {"write", -1, ""},
    {"wait", -1, ""},
};

int cmd_profile(int argc, char** argv) {
  BenchArgs a;
  RowArgs r;
  bool no_md5 = false;
  std::string engine;
  po::options_description visible("Options"), hidden;
  add_row_options(visible, r);
  add_engine_option(visible, engine, "");
  xrd::cli::add_no_md5_option(visible, no_md5, "profile checks them by default, as the paper's pipeline through fabio "
                                               "does; the md5 stage is then not run");
  add_bench_options(visible, hidden, a, "out/profile");
  int status = 0;
  const xrd::cli::Help help{
      "xrdbench profile --dataset DIR [--strategy sequential] [--integrator cpu|gpu] [options]",
      "The paper's stage profile (§2.3): time per frame in read, MD5, decode, integrate, write and wait,\n"
      "beside the paper's figures. MD5 is verified unless --no-md5 (fabio checks it in the paper's\n"
      "pipeline). Writes OUT/results.json too; --trace FILE shows every frame's stages in Perfetto.",
      {"xrdbench profile --dataset out/synth-60 --strategy sequential --trace out/profile/trace.json"}};
  if (!parse_args(argc, argv, visible, hidden, help, status))
    return status;
  a.verify_md5 = !no_md5;
  RowSpec spec = make_row_spec(r, a);
  apply_engine(spec, engine);

  Bench b = open_bench(a, argc, argv, row_uses_device(spec));
  const auto& stop = install_interrupt_handler();
  Progress progress(1);
  Runner runner(b.ds, b.runner_options(), b.device.get(), &stop, &progress);
  ConsoleReporter console(&progress);
  ResultsJsonReporter json(b);
  Reporters reporters;
  if (!a.quiet) reporters.add(&console);
  reporters.add(&json);
  runner.set_reporter(&reporters);
  ResultRow row;
  try {
    row = runner.run_row(spec);  // results.json written with it
  } catch (const Interrupted&) {
    b.results.interrupted = true;
    reporters.finalize();
    return 130;
  }
  progress.clear();
  if (!a.trace.empty()) write_chrome_trace(a.trace, runner.trace_events(), runner.trace_thread_names());
  if (row.fps.runs.empty()) throw xrd::Error("", "", row.id + ": " + row.invalid_reasons.front());

  const double wall_ms = 1000.0 / row.fps.median;
  std::printf("Stage profile of %s: %s\n", row.id.c_str(), row.label.c_str());
  std::printf("%zu frames, median of %d runs, MD5 %s; %.1f frames/s = %.2f ms/frame wall%s\n\n", b.ds.frames(),
              a.repeats, a.verify_md5 ? "verified" : "not verified", row.fps.median, wall_ms,
              row.valid ? "" : "  [row INVALID: see results.json]");
  std::printf("%-10s %12s %8s   | %-34s\n", "stage", "ours ms/fr", "share", "paper (1202 frames, sequential)");
  std::printf("%-10s %12s %8s   | %-34s\n", "----------", "----------", "------", "----------------------------------");
  for (auto& p : kPaperProfile) {
    const auto it = row.stages_ms.find(p.stage);
    const double ms = it == row.stages_ms.end() ? 0.0 : it->second;
    char paper[96];
    if (p.seconds > 0)
      std::snprintf(paper, sizeof paper, "%5.1f s = %6.2f ms/frame %s", p.seconds, p.seconds * 1000 / kPaperFrames,
                    p.note);
    else
      std::snprintf(paper, sizeof paper, "%s", p.note);
    std::printf("%-10s %12.3f %7.1f%%   | %s\n", p.stage, ms, 100.0 * ms / wall_ms, paper);
  }
  std::printf("%-10s %12.3f %8s   | %5.1f s = %6.2f ms/frame\n", "wall", wall_ms, "", 43.0, 43000.0 / kPaperFrames);
  std::printf("\nShares are of the wall time per frame; parallel strategies add up the CPU time of every thread,\n"
              "so their stages can sum to more than 100%%. Results: %s\n",
              (b.out_dir / "results.json").c_str());
  return row.valid ? 0 : 3;
}

xrd::cli::CommandRegistrar reg("profile", "the paper's stage profile (read, MD5, decode, integrate, write) of a strategy",
                               cmd_profile);

}  // namespace
