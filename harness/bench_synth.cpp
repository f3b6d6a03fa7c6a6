// Micro-benchmarks of the synthetic generator: one 2M frame's pixels, the whole per-frame write path in memory
// (pixels + CBF encoding + MD5 of the file), and the Poisson sampler alone at a few count levels.
#include <benchmark/benchmark.h>

#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/synth.hpp"
#include "kernels/md5.hpp"

namespace {

using namespace xrd;

const synth::Generator& generator() {
  static const synth::Generator g(synth::Params{}, 2);
  return g;
}

void BM_SynthFramePixels(benchmark::State& state) {
  const auto& g = generator();
  std::vector<int32_t> px(synth::kPixels);
  synth::FrameScratch s;
  size_t i = 0;
  for (auto _ : state) {
    g.frame(i++ % 1202, px, s);
    benchmark::DoNotOptimize(px.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations()));  // frames
}
BENCHMARK(BM_SynthFramePixels)->Unit(benchmark::kMillisecond);

// What one worker of `xrdbench dataset synth` does per frame, minus the write() call.
void BM_SynthFrameToCbf(benchmark::State& state) {
  const auto& g = generator();
  std::vector<int32_t> px(synth::kPixels);
  std::vector<uint8_t> file, scratch;
  synth::FrameScratch s;
  size_t i = 0;
  for (auto _ : state) {
    g.frame(i, px, s);
    benchmark::DoNotOptimize(synth::byte_offset_stats(px));
    cbf::write_to(file, px, synth::kWidth, synth::kHeight, g.header(i), scratch);
    benchmark::DoNotOptimize(md5(file));
    i = (i + 1) % 1202;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_SynthFrameToCbf)->Unit(benchmark::kMillisecond);

void BM_SynthPoisson(benchmark::State& state) {
  const double lambda = double(state.range(0));
  uint64_t n = 0;
  int64_t sum = 0;
  for (auto _ : state) {
    for (int k = 0; k < 1024; ++k) sum += synth::detail::poisson(lambda, synth::detail::mix64(++n));
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1024);  // samples
}
BENCHMARK(BM_SynthPoisson)->Arg(3)->Arg(12)->Arg(40)->Arg(1000);

}  // namespace
