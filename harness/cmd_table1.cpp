// xrdbench table1: the paper's 12 rows plus ours on a dataset -> OUT/results.json and OUT/table1.md.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/cli.hpp"
#include "harness/h2d_bound.hpp"
#include "harness/mpi.hpp"
#include "harness/runner_cli.hpp"
#include "harness/table1.hpp"
#include "harness/trace.hpp"
#include "base/atomic_file.hpp"
#include "base/error.hpp"
#include "strategies/engines.hpp"

namespace po = boost::program_options;
using namespace xrd::harness;

namespace {

int table1_command(int argc, char** argv, const xrd::harness::mpi::Session& session);

int cmd_table1(int argc, char** argv) {
  // Under mpirun: every row runs on R ranks, each on its block of the frames (harness/mpi_row.cpp).
  xrd::harness::mpi::Session session(argc, argv);
  return session.guard([&] { return table1_command(argc, argv, session); });
}

int table1_command(int argc, char** argv, const xrd::harness::mpi::Session& session) {
  BenchArgs a;
  std::string only, engine, csv;
  bool no_ours = false;
  po::options_description visible("Options"), hidden;
  visible.add_options()
      ("rows", po::value(&only), "run only these rows: comma-separated row ids (e.g. sequential-cpu-MEM,pool-2-gpu-MEM)")
      ("no-ours", po::bool_switch(&no_ours), "only the paper's 12 rows");
  add_engine_option(visible, engine, "table1: the rows integrated on the CPU (the GPU rows keep opencl)");
  add_csv_option(visible, csv);
  add_bench_options(visible, hidden, a, "out/table1");
  int status = 0;
  const xrd::cli::Help help{
      "xrdbench table1 --dataset DIR [--repeats 5] [--out OUTDIR] [--device D] [options]",
      "Runs the paper's Table 1 (sequential CPU/CPU and CPU/GPU cold and hot; pool of 1, 2, 3, 4, 6, 12, 24\n"
      "readers with GPU integration, hot; OpenCL, hot) plus our strategies, and writes OUTDIR/results.json\n"
      "and OUTDIR/table1.md (our median and MAD beside the paper's). Without a GPU, the GPU rows run on\n"
      "the OpenCL CPU device and say so. Ctrl-C keeps the rows already finished. A results.json already\n"
      "in OUTDIR keeps its rows (rows of the same id are replaced) when it was measured on the same dataset\n"
      "with the same settings; otherwise, or while another xrdbench writes there, table1 refuses before\n"
      "measuring. A frame that fails is reported in its row and the other frames are kept.\n\n"
      "Exit status (as `xrdbench run`): 0 every row valid and validated; 3 some row is not (table1.md and\n"
      "results.json say why); 130 interrupted (Ctrl-C), finished rows kept; 2 a usage error; 1 another error\n"
      "before measuring.\n"
      "Under `mpirun -n R` every row runs on R ranks, each on its contiguous block of the frames\n"
      "(row ids end in -mpiR; rank 0 writes the results; README: MPI ranks).",
      {"xrdbench table1 --dataset out/synth-60 --repeats 5 --out out/table1",
       "xrdbench table1 --dataset out/synth-60 --rows sequential-cpu-MEM,pool-2-gpu-MEM --device cpu",
       "xrdbench table1 --dataset out/synth-60 --engine csc --csv out/table1/rows.csv"}};
  if (!parse_args(argc, argv, visible, hidden, help, status))
    return status;

  a.threads = xrd::harness::mpi::threads_per_rank(session, a.threads);
  if (!session.is_root()) a.quiet = true;  // rank 0 speaks for the job
  a.results_writer = session.is_root();   // and writes the results (it alone locks the folder)
  const auto paper = load_paper_table1();
  auto rows = table1_rows(paper, a.threads);
  if (no_ours) std::erase_if(rows, [](const Table1Row& r) { return r.paper == nullptr; });
  if (!only.empty()) {
    std::set<std::string> want;
    std::stringstream ss(only);
    for (std::string id; std::getline(ss, id, ',');)
      if (!id.empty()) want.insert(id);
    std::set<std::string> known;
    std::vector<Table1Row> kept;
    for (auto& r : rows) {
      const std::string id = r.spec.id = row_id_of(r.spec);
      known.insert(id);
      if (want.count(id)) kept.push_back(r);
    }
    for (auto& w : want)
      if (!known.count(w)) {
        std::string list;
        for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw xrd::Error("", "--rows", "unknown row '" + w + "' (rows: " + list + ")");
      }
    rows = kept;
  }
  if (!engine.empty()) {
    try {
      if (xrd::strategies::check_engine_spec(engine).needs_device)
        xrd::cli::usage_error("--engine " + engine + ": table1's GPU rows integrate with opencl already; --engine "
                              "chooses the engine of its CPU-integrated rows");
    } catch (const xrd::Error& e) {
      xrd::cli::usage_error(std::string("--engine: ") + e.what());
    }
    for (auto& r : rows)
      if (engine_applies(r.spec)) apply_engine(r.spec, engine);
  }
  bool want_device = false;
  for (auto& r : rows) {
    r.spec.opt.verify_md5 = a.verify_md5;
    r.spec.opt.read_method = row_read_method(a.read_method, r.spec.strategy, r.spec.cache);
    r.spec.opt.read_ahead = row_read_ahead(a.read_ahead, r.spec.strategy, r.spec.cache);  // --read-ahead
    want_device |= row_uses_device(r.spec);
  }

  // Before the dataset is loaded: Ctrl-C while the matrix is built ends the run cleanly too (exit 130, an empty
  // results.json saying interrupted), not by the signal.
  const auto& stop = install_interrupt_handler();
  Bench b = open_bench(a, argc, argv, want_device);
  Progress progress(rows.size());
  RunnerOptions ro = b.runner_options();
  ro.mpi = &session;
  Runner runner(b.ds, ro, b.device.get(), &stop, session.is_root() ? &progress : nullptr);
  int rc = 0;
  // The disk's bound for the cold rows, measured the same way they read (evicted, then read).
  std::vector<std::string> notes;
  bool dropped_for_bound = false;
  const bool any_cold = std::any_of(rows.begin(), rows.end(), [](auto& r) { return r.spec.cache == CacheMode::cold; });
  // Under mpirun the bound is not measured (R ranks evicting and reading the same disk is another measurement).
  if (any_cold && !a.skip_eviction && session.size() == 1) {
    std::string line = "Cold read bound (every file evicted, then read once by N threads with each method, no processing):";
    const ReadBoundSweep sweep = measure_read_bound(b.ds, a.drop_caches, &dropped_for_bound);
    for (const ReadBound& rb : sweep.sweep) {
      char text[200];
      std::snprintf(text, sizeof text, " %s x%d: %.0f MB/s = %.0f frames/s%s%s;", xrd::io::to_string(rb.method), rb.threads,
                    rb.mb_per_s, rb.frames_per_s,
                    rb.resident_before > kColdMaxResident ? " (NOT evicted: page cache)" : "",
                    rb.fallback.empty() ? "" : " (unavailable here: read with pread)");
      line += text;
    }
    line.back() = '.';
    char best[160];
    std::snprintf(best, sizeof best, " Bound: %.0f frames/s (%s, %d threads); a cold (SSD) row cannot beat it.",
                  sweep.best.frames_per_s, xrd::io::to_string(sweep.best.method), sweep.best.threads);
    line += best;
    b.results.read_bound = sweep.to_json();
    if (!a.quiet) std::fprintf(stderr, "%s\n", line.c_str());
    notes.push_back(line);
  }
  // Rank 0 speaks for the job and writes the results (the other ranks are quiet and report nothing): results.json
  // and table1.md after every row, so that an interruption or a crash keeps the rows finished.
  ConsoleReporter console(&progress);
  // A row on an OpenCL device: the bus's bound measured in this invocation, before the rows and after them.
  SameRunBus bus(b, want_device, session.size());
  std::vector<ResultRow> done;  // this invocation's rows (results.json may hold earlier ones)
  ResultsJsonReporter json(b, [&](ResultsFile& f) {
    f.settings.drop_caches = dropped_for_bound || runner.drop_caches_done();
    bus.fill(f);
  });
  Table1Reporter markdown(b.out_dir / "table1.md", json, notes);
  CsvReporter csv_file(csv, json);
  Reporters reporters;
  if (!a.quiet) reporters.add(&console);
  if (session.is_root()) {
    reporters.add(&json);
    reporters.add(&markdown);
    if (!csv.empty()) reporters.add(&csv_file);
  }
  runner.set_reporter(&reporters);
  for (auto& r : rows) {
    if (r.paper) r.spec.paper = PaperValue{r.paper->median_fps, r.paper->mad_fps};
    try {
      const ResultRow& row = done.emplace_back(runner.run_row(r.spec));
      if (!row.valid || !row.validated) rc = 3;
    } catch (const Interrupted&) {
      b.results.interrupted = true;
      rc = 130;
      break;
    }
  }
  progress.clear();
  if (!session.is_root()) return rc;
  for (std::string& l : bus.after(done, rc == 130)) notes.push_back(std::move(l));
  reporters.finalize();
  const ResultsFile& all = json.written();
  if (!a.trace.empty()) write_chrome_trace(a.trace, runner.trace_events(), runner.trace_thread_names());
  std::printf("%s\n", table1_markdown(all, notes).c_str());
  std::fprintf(stderr, "wrote %s and %s\n", (b.out_dir / "results.json").c_str(), (b.out_dir / "table1.md").c_str());
  return rc;
}

xrd::cli::CommandRegistrar reg("table1", "run the paper's Table 1 (+ our strategies) -> results.json, table1.md",
                               cmd_table1);

}  // namespace
