// Micro-benchmarks of the CPU integration on the real Pilatus3 2M LaB6 frame (shared/fixtures), 1000 bins,
// q_nm^-1, the detector mask: the Setup build (geometry + matrix) and the fast layout, and ms/frame of the CPU
// engines of the engine table (strategies/engines.hpp): reference (1 thread), csr-parallel, fast (each variant) and
// csc, for each pixel splitting, on 1, 2 and every thread. The "ms_per_frame" counter is the wall time of one frame.
//   build/release/harness/xrdbench_micro --benchmark_filter=Integrate
//   scripts/bench_integrate_vs_pyfai.sh   (the same, beside pyFAI 0.21 in the same run)
#include <benchmark/benchmark.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "datasets/cbf.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "harness/bench_fixtures.hpp"
#include "kernels/integrate.hpp"
#include "strategies/engines.hpp"

namespace {

using namespace xrd;

struct RealFrameInputs {
  cbf::Image image;
  integration::Geometry geometry;
  std::vector<uint8_t> mask;
  std::string error;
};

const RealFrameInputs& frame() {
  static const RealFrameInputs f = [] {
    RealFrameInputs x;
    try {
      const std::filesystem::path dir = xrd::bench::fixtures_dir();
      std::vector<uint8_t> bytes;
      const auto path = xrd::bench::real_lab6_frame();
      cbf::read_file(path, bytes);
      const auto v = cbf::parse(bytes, path.string());
      x.image.width = v.binary.width;
      x.image.height = v.binary.height;
      x.image.pixels.resize(x.image.width * x.image.height);
      cbf::decode(v, x.image.pixels, /*reference=*/true);
      x.geometry = poni::read(dir / "real" / "pilatus3x2m_lab6_300_00_0001p.poni");
      x.mask = mask::read(dir / "pilatus2m_mask.cbf", x.image.width, x.image.height);
    } catch (const std::exception& e) {
      x.error = e.what();
    }
    return x;
  }();
  return f;
}

integration::Options options(int split) {
  integration::Options o;
  o.bins = 1000;
  o.unit = integration::Unit::q_nm;
  o.split = static_cast<integration::Split>(split);
  return o;
}

// Setups and engines (from the engine table, strategies/engines.hpp) are built once per splitting and engine spec
// ("fast", "fast:scalar", ...) and shared by the benchmarks.
struct Built {
  integration::Setup setup;
  std::map<std::string, std::unique_ptr<integration::Engine>> engines;
};
Built& built(int split) {
  static std::map<int, Built> cache;
  auto it = cache.find(split);
  if (it == cache.end()) {
    const RealFrameInputs& f = frame();
    Built b;
    b.setup = integration::build_setup(f.geometry, f.mask, f.image.width, f.image.height, options(split));
    it = cache.emplace(split, std::move(b)).first;
  }
  return it->second;
}
const integration::Engine& engine(int split, const std::string& spec) {
  Built& b = built(split);
  auto& e = b.engines[spec];
  if (!e) e = strategies::make_engine(spec, b.setup);
  return *e;
}

int threads_arg(int a) { return a > 0 ? a : tbb::info::default_concurrency(); }

void label(benchmark::State& state, int split, int threads) {
  state.SetLabel(std::string(integration::to_string(static_cast<integration::Split>(split))) + ", " +
                 std::to_string(threads) + " thread" + (threads == 1 ? "" : "s"));
}

void per_frame(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(frame().image.pixels.size()));
  state.counters["ms_per_frame"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-3,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_IntegrateBuildSetup(benchmark::State& state) {
  const RealFrameInputs& f = frame();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const int split = static_cast<int>(state.range(0)), threads = threads_arg(static_cast<int>(state.range(1)));
  double geometry = 0, matrix = 0;
  size_t nnz = 0;
  for (auto _ : state) {
    const auto s = integration::build_setup(f.geometry, f.mask, f.image.width, f.image.height, options(split), {},
                                      {}, threads);
    geometry += s.geometry_seconds, matrix += s.matrix_seconds, nnz = s.csr.nnz();
  }
  label(state, split, threads);
  state.counters["geometry_ms"] = 1e3 * geometry / static_cast<double>(state.iterations());
  state.counters["matrix_ms"] = 1e3 * matrix / static_cast<double>(state.iterations());
  state.counters["nnz"] = static_cast<double>(nnz);
}

void BM_IntegrateFastLayout(benchmark::State& state) {
  const RealFrameInputs& f = frame();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const int split = static_cast<int>(state.range(0)), threads = threads_arg(static_cast<int>(state.range(1)));
  const auto& b = built(split);
  integration::EngineConfig config;
  config.threads = threads;
  size_t bytes = 0;
  for (auto _ : state) bytes = strategies::make_engine("fast", b.setup, config)->layout_bytes();
  label(state, split, threads);
  state.counters["layout_MB"] = static_cast<double>(bytes) / 1e6;
}

// One engine of the table on the frame, whole frames, in an arena of the benchmark's threads (its second argument;
// 1 without thread_arg). The label says the engine's variant (its kernel), the splitting and the threads.
void run_engine(benchmark::State& state, const std::string& spec, bool thread_arg = true) {
  const RealFrameInputs& f = frame();
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const int split = static_cast<int>(state.range(0));
  const int threads = thread_arg ? threads_arg(static_cast<int>(state.range(1))) : 1;
  const integration::Engine& e = engine(split, spec);
  integration::Pattern p;
  const auto ws = e.make_workspace();
  tbb::task_arena arena(threads);
  for (auto _ : state) arena.execute([&] { e.integrate(f.image.pixels, p, ws.get()); });
  const std::string variant = e.variant();
  state.SetLabel((variant.empty() ? "" : variant + ", ") +
                 integration::to_string(static_cast<integration::Split>(split)) + ", " + std::to_string(threads) +
                 " thread" + (threads == 1 ? "" : "s"));
  if (e.layout_bytes()) state.counters["layout_MB"] = static_cast<double>(e.layout_bytes()) / 1e6;
  per_frame(state);
}

// The reference engine (plain CSR, one thread) and the row-parallel CSR engine.
void BM_IntegrateReference(benchmark::State& state) { run_engine(state, "reference", false); }
void BM_IntegrateCsrParallel(benchmark::State& state) { run_engine(state, "csr-parallel"); }
// The fast engine (strips, gathered), with the best kernel for this CPU; then with each loop forced: AVX2 gathers
// (scalar where the CPU has no AVX2), scalar loads.
void BM_IntegrateFast(benchmark::State& state) { run_engine(state, "fast"); }
void BM_IntegrateFastGather(benchmark::State& state) { run_engine(state, "fast:gather"); }
void BM_IntegrateFastScalar(benchmark::State& state) { run_engine(state, "fast:scalar"); }
// The pixel-major engine (CSC: per pixel its bins, scattered).
void BM_IntegrateCsc(benchmark::State& state) { run_engine(state, "csc"); }

// Splittings: 0 = no, 1 = bbox, 2 = full. Threads: 1, 2, 0 = every core.
void splits_threads(benchmark::internal::Benchmark* b) {
  for (int s : {0, 1, 2})
    for (int t : {1, 2, 0}) b->Args({s, t});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
void splits(benchmark::internal::Benchmark* b) {
  for (int s : {0, 1, 2}) b->Args({s});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
void splits_all_threads(benchmark::internal::Benchmark* b) {
  for (int s : {0, 1, 2}) b->Args({s, 0});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_IntegrateBuildSetup)->Apply(splits_all_threads);
BENCHMARK(BM_IntegrateFastLayout)->Apply(splits_all_threads);
BENCHMARK(BM_IntegrateReference)->Apply(splits);
BENCHMARK(BM_IntegrateCsrParallel)->Apply(splits_threads);
BENCHMARK(BM_IntegrateFast)->Apply(splits_threads);
BENCHMARK(BM_IntegrateFastGather)->Apply(splits_threads);
BENCHMARK(BM_IntegrateFastScalar)->Apply(splits_threads);
BENCHMARK(BM_IntegrateCsc)->Apply(splits_threads);

}  // namespace
