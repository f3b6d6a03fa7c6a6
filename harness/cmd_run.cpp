// xrdbench run: one row (one strategy, its options, cold or hot) on a dataset -> OUT/results.json.
#include <cstdio>

#include "harness/cli.hpp"
#include "harness/mpi.hpp"
#include "harness/runner_cli.hpp"
#include "harness/trace.hpp"
#include "kernels/error.hpp"

namespace po = boost::program_options;
using namespace xrd::harness;

namespace {

int run_row_command(int argc, char** argv, const xrd::harness::mpi::Session& session);

int cmd_run(int argc, char** argv) {
  // Under mpirun: one rank of R, each running the row on its block of the frames (harness/mpi_row.cpp).
  xrd::harness::mpi::Session session(argc, argv);
  return session.guard([&] { return run_row_command(argc, argv, session); });
}

int run_row_command(int argc, char** argv, const xrd::harness::mpi::Session& session) {
  BenchArgs a;
  RowArgs r;
  std::string id;
  po::options_description visible("Options"), hidden;
  add_row_options(visible, r);
  visible.add_options()("id", po::value(&id),
                        "row id in results.json (default: <strategy>[-<readers>]-<integrator>-<SSD|MEM>)");
  add_bench_options(visible, hidden, a, "out/run");
  int status = 0;
  const xrd::cli::Help help{
      "xrdbench run --dataset DIR --strategy NAME [--readers N] [--integrator cpu|gpu] [--cache hot|cold] [options]\n"
      "       mpirun -n R xrdbench run ... (each rank runs the row on its block of the frames)",
      "Runs one row: a warm-up, then --repeats timed runs; validates every run against the reference\n(CPU, same matrix) "
      "and writes OUT/results.json (and OUT/patterns/ROW.h5). A results.json already in OUT\nkeeps its rows (this row "
      "is added; one of the same id is replaced) when it was measured on the\nsame dataset with the same settings; "
      "otherwise, or while another xrdbench writes into OUT, the\nrun is refused before measuring. A frame that fails "
      "is reported and the others are kept.\n\nExit status: 0 the row is valid and validated; 3 it is not "
      "(results.json says why: failed\nframes, residency, output differing from the reference); 130 interrupted "
      "(Ctrl-C), finished\nresults kept; 2 a usage error (bad option or value); 1 another error before measuring (bad "
      "input,\noutput folder unwritable or in use).",
      {"xrdbench run --dataset out/synth-60 --strategy pool --readers 4 --integrator gpu --cache cold --out out/run"}};
  if (!parse_args(argc, argv, visible, hidden, help, status))
    return status;

  a.threads = xrd::harness::mpi::threads_per_rank(session, a.threads);
  if (!session.is_root()) a.quiet = true;  // rank 0 speaks for the job
  a.results_writer = session.is_root();   // and writes the results (it alone locks the folder)
  RowSpec spec = make_row_spec(r, a);
  spec.id = id;
  const bool want_device = row_uses_device(spec);

  // Before the dataset is loaded: Ctrl-C while the matrix is built ends the run cleanly too (exit 130, an empty
  // results.json saying interrupted), not by the signal.
  const auto& stop = install_interrupt_handler();
  Bench b = open_bench(a, argc, argv, want_device);
  Progress progress(1);
  RunnerOptions ro = b.runner_options();
  ro.mpi = &session;
  Runner runner(b.ds, ro, b.device.get(), &stop, session.is_root() ? &progress : nullptr);
  // Rank 0 speaks for the job and writes the results (the other ranks are quiet and report nothing).
  ConsoleReporter console(&progress);
  ResultsJsonReporter json(b, [&](ResultsFile& f) { f.settings.drop_caches = runner.drop_caches_done(); });
  Reporters reporters;
  if (!a.quiet) reporters.add(&console);
  if (session.is_root()) reporters.add(&json);
  runner.set_reporter(&reporters);
  int rc = 0;
  try {
    const ResultRow row = runner.run_row(spec);
    rc = row.valid ? 0 : 3;
  } catch (const Interrupted&) {
    b.results.interrupted = true;
    rc = 130;
  }
  progress.clear();
  if (!session.is_root()) return rc;  // rank 0 writes the results, once
  reporters.finalize();
  if (!a.trace.empty()) write_chrome_trace(a.trace, runner.trace_events(), runner.trace_thread_names());
  std::printf("%s\n", (b.out_dir / "results.json").c_str());
  return rc;
}

xrd::cli::CommandRegistrar reg("run", "run one strategy (one Table 1 row) on a dataset -> results.json", cmd_run);

}  // namespace
