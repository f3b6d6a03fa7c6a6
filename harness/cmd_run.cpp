// xrdbench run: one row (one strategy, its options, cold or hot) on a dataset -> OUT/results.json.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "harness/cli.hpp"
#include "harness/h2d_bound.hpp"
#include "harness/mpi.hpp"
#include "harness/runner_cli.hpp"
#include "harness/trace.hpp"
#include "base/error.hpp"

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
  std::string id, engine, csv, sweep_readers, sweep_methods, sweep_batch, sweep_in_flight, sweep_engines;
  std::string sweep_read_ahead;  // --sweep-read-ahead
  std::string sweep_threads;     // --sweep-threads
  po::options_description visible("Options"), hidden;
  add_row_options(visible, r);
  add_engine_option(visible, engine, "the default row id then ends in -<engine>[-<variant>]");
  visible.add_options()
      ("sweep-readers", po::value(&sweep_readers)->value_name("N,N,..."),
       "a sweep: one row per value (with the other --sweep-* lists: every combination), the reference computed once; "
       "row ids get -<method>-b<batch>-f<in-flight>-e<engines>")
      ("sweep-read-methods", po::value(&sweep_methods)->value_name("M,M,..."), "a sweep over read methods")
      ("sweep-batch", po::value(&sweep_batch)->value_name("N,N,..."), "a sweep over --batch")
      ("sweep-in-flight", po::value(&sweep_in_flight)->value_name("N,N,..."),
       "a sweep over opencl-batched's pinned staging slots per engine (batches in flight + the one being filled)")
      ("sweep-engines", po::value(&sweep_engines)->value_name("N,N,..."),
       "a sweep over opencl-batched's engines on its one device (2: the next batch fills while the last one's "
       "final frames are read)")
      ("sweep-read-ahead", po::value(&sweep_read_ahead)->value_name("N,N,..."),
       "a sweep over --read-ahead (pipeline, fused: reader threads ahead of the workers); row ids get -ra<N>")
      ("sweep-threads", po::value(&sweep_threads)->value_name("N,N,..."),
       "a sweep over --threads (worker threads of the parallel strategies; 0 = every core); row ids get -t<N>");
  visible.add_options()("id", po::value(&id),
                        "row id in results.json (default: <strategy>[-<readers>]-<integrator>-<SSD|MEM>)");
  add_csv_option(visible, csv);
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
      {"xrdbench run --dataset out/synth-60 --strategy pool --readers 4 --integrator gpu --cache cold --out out/run",
       "xrdbench run --dataset out/synth-60 --strategy pipeline --engine fast:scalar --csv out/run/rows.csv"}};
  if (!parse_args(argc, argv, visible, hidden, help, status))
    return status;

  a.threads = xrd::harness::mpi::threads_per_rank(session, a.threads);
  if (!session.is_root()) a.quiet = true;  // rank 0 speaks for the job
  a.results_writer = session.is_root();   // and writes the results (it alone locks the folder)
  RowSpec spec = make_row_spec(r, a);
  apply_engine(spec, engine);
  spec.id = id.empty() && !engine.empty() ? row_id_of(spec) + "-" + engine_id_suffix(engine) : id;
  const bool want_device = row_uses_device(spec);
  // --sweep-*: every combination of the lists, as rows of one invocation.
  auto ints = [](const std::string& list, const char* field, int given) {
    std::vector<int> v;
    if (list.empty()) return std::vector<int>{given};
    size_t at = 0;
    while (at <= list.size()) {
      const size_t comma = std::min(list.find(',', at), list.size());
      const std::string item = list.substr(at, comma - at);
      char* end = nullptr;
      const long n = std::strtol(item.c_str(), &end, 10);
      if (item.empty() || *end || n < 0 || n > 4096)
        throw xrd::Error("", field, "expected comma-separated counts 0 to 4096, not '" + list + "'");
      v.push_back(static_cast<int>(n));
      at = comma + 1;
    }
    return v;
  };
  std::vector<RowSpec> specs;
  const bool sweep = !sweep_readers.empty() || !sweep_methods.empty() || !sweep_batch.empty() ||
                     !sweep_in_flight.empty() || !sweep_engines.empty() || !sweep_read_ahead.empty() ||
                     !sweep_threads.empty();
  if (!sweep) specs.push_back(spec);
  else {
    std::vector<std::string> methods;
    for (size_t at = 0; at <= sweep_methods.size();) {
      const size_t comma = std::min(sweep_methods.find(',', at), sweep_methods.size());
      methods.push_back(sweep_methods.substr(at, comma - at));
      at = comma + 1;
    }
    if (sweep_methods.empty()) methods = {a.read_method};
    for (int rd : ints(sweep_readers, "--sweep-readers", r.readers))
      for (const auto& m : methods)
        for (int bt : ints(sweep_batch, "--sweep-batch", r.batch))
          for (int fl : ints(sweep_in_flight, "--sweep-in-flight", 0))
            for (int en : ints(sweep_engines, "--sweep-engines", 0))
            for (int ra : sweep_read_ahead.empty() ? std::vector<int>{-1} : ints(sweep_read_ahead, "--sweep-read-ahead", 0))
            for (int th : sweep_threads.empty() ? std::vector<int>{-1} : ints(sweep_threads, "--sweep-threads", 0)) {
            RowArgs rr = r;
            rr.readers = rd;
            rr.batch = bt;
            BenchArgs aa = a;
            aa.read_method = m;
            RowSpec s = make_row_spec(rr, aa);
            apply_engine(s, engine);
            s.opt.in_flight = fl;
            s.opt.engines_per_device = en;
            if (ra > 64) throw xrd::Error("", "--sweep-read-ahead", "expected counts 0 to 64, not " + std::to_string(ra));
            if (ra >= 0) s.opt.read_ahead = row_read_ahead(std::to_string(ra), s.strategy, s.cache);
            if (th > 1024) throw xrd::Error("", "--sweep-threads", "expected counts 0 to 1024, not " + std::to_string(th));
            if (th >= 0) s.opt.threads = th;
            const auto& info = xrd::strategies::find_strategy(s.strategy);
            s.id = row_id(info.name, info.uses_readers ? std::optional<int>(s.opt.readers) : std::nullopt,
                          row_uses_device(s) ? "gpu" : "cpu", source_name(s.cache)) +
                   "-" + xrd::io::to_string(s.opt.read_method) + "-b" + std::to_string(s.opt.batch) + "-f" +
                   std::to_string(fl) + "-e" + std::to_string(en) +
                   (ra >= 0 ? "-ra" + std::to_string(s.opt.read_ahead) : "") +
                   (th >= 0 ? "-t" + std::to_string(th) : "") +
                   (engine.empty() ? "" : "-" + engine_id_suffix(engine));
            specs.push_back(s);
          }
  }

  // Before the dataset is loaded: Ctrl-C while the matrix is built ends the run cleanly too (exit 130, an empty
  // results.json saying interrupted), not by the signal.
  const auto& stop = install_interrupt_handler();
  Bench b = open_bench(a, argc, argv, want_device);
  Progress progress(specs.size());
  RunnerOptions ro = b.runner_options();
  ro.mpi = &session;
  Runner runner(b.ds, ro, b.device.get(), &stop, session.is_root() ? &progress : nullptr);
  // Rank 0 speaks for the job and writes the results (the other ranks are quiet and report nothing).
  ConsoleReporter console(&progress);
  // A row on an OpenCL device: the bus's bound measured in this invocation, before the rows and after them.
  SameRunBus bus(b, want_device, session.size());
  std::vector<ResultRow> done;  // this invocation's rows (results.json may hold earlier ones)
  ResultsJsonReporter json(b, [&](ResultsFile& f) {
    f.settings.drop_caches = runner.drop_caches_done();
    bus.fill(f);
  });
  CsvReporter csv_file(csv, json);
  Reporters reporters;
  if (!a.quiet) reporters.add(&console);
  if (session.is_root()) reporters.add(&json);
  if (session.is_root() && !csv.empty()) reporters.add(&csv_file);
  runner.set_reporter(&reporters);
  int rc = 0;
  // A sweep with cold rows measures the disk's bound first, as table1 does (every method, thread counts, best kept).
  const bool any_cold = std::any_of(specs.begin(), specs.end(), [](auto& s) { return s.cache == CacheMode::cold; });
  if (sweep && any_cold && !a.skip_eviction && session.size() == 1) {
    bool dropped = false;
    const ReadBoundSweep rb = measure_read_bound(b.ds, a.drop_caches, &dropped);
    for (const ReadBound& x : rb.sweep)
      std::fprintf(stderr, "read bound: %s x%d: %.0f MB/s = %.0f frames/s (resident before %.3f)%s\n",
                   xrd::io::to_string(x.method), x.threads, x.mb_per_s, x.frames_per_s, x.resident_before,
                   x.fallback.empty() ? "" : " (unavailable: pread)");
    std::fprintf(stderr, "read bound: best %.0f frames/s (%s, %d threads)\n", rb.best.frames_per_s,
                 xrd::io::to_string(rb.best.method), rb.best.threads);
    b.results.read_bound = rb.to_json();
  }
  try {
    for (const RowSpec& s : specs) {  // the reporters keep each row as it finishes (results.json rewritten)
      const ResultRow& row = done.emplace_back(runner.run_row(s));
      if (!row.valid) rc = 3;
    }
  } catch (const Interrupted&) {
    b.results.interrupted = true;
    rc = 130;
  }
  progress.clear();
  if (!session.is_root()) return rc;  // rank 0 writes the results, once
  for (const std::string& l : bus.after(done, rc == 130))
    if (!a.quiet) std::fprintf(stderr, "%s\n", l.c_str());
  reporters.finalize();
  if (!a.trace.empty()) write_chrome_trace(a.trace, runner.trace_events(), runner.trace_thread_names());
  std::printf("%s\n", (b.out_dir / "results.json").c_str());
  return rc;
}

xrd::cli::CommandRegistrar reg("run", "run one strategy (one Table 1 row) on a dataset -> results.json", cmd_run);

}  // namespace
