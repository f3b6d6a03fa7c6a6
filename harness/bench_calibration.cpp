// Micro-benchmarks of the calibration that results.json carries (memcpy bandwidth, scalar decode of the synthetic
// 2M frame, as environment.cpp measures them) and of the stage profiler's per-event cost on the hot path.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "harness/environment.hpp"
#include "base/profiler.hpp"
#include "kernels/byte_offset.hpp"

namespace {

using namespace xrd;

void BM_MemcpyBandwidth(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0)) << 20;
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}
// 256 MB is the calibration's size (far beyond any cache); 8 MB shows the cache-resident speed beside it.
BENCHMARK(BM_MemcpyBandwidth)->Arg(8)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

struct CalibrationData {
  std::vector<int32_t> frame = harness::calibration_frame();
  std::vector<uint8_t> stream = [this] {
    std::vector<uint8_t> s;
    byte_offset::encode(frame, s);
    return s;
  }();
};
const CalibrationData& data() {
  static const CalibrationData d;
  return d;
}

template <bool Scalar>
void BM_CalibrationDecode(benchmark::State& state) {
  const auto& d = data();
  std::vector<int32_t> out(d.frame.size());
  for (auto _ : state) {
    const auto r = Scalar ? byte_offset::decode_scalar(d.stream, out) : byte_offset::decode(d.stream, out);
    if (!r.ok()) state.SkipWithError(r.message().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.stream.size()));
  state.counters["Mpixel/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * d.frame.size()) / 1e6, benchmark::Counter::kIsRate);
  state.SetLabel(Scalar ? "scalar (the calibration)" : byte_offset::fast_decoder_name());
}
BENCHMARK_TEMPLATE(BM_CalibrationDecode, true)->Name("BM_CalibrationDecode/scalar")->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_CalibrationDecode, false)->Name("BM_CalibrationDecode/fast")->Unit(benchmark::kMillisecond);

// One add() per stage per frame is what strategies pay; threads share one profiler as they do in a run.
void BM_ProfilerAdd(benchmark::State& state) {
  static StageProfiler prof(64);
  const int thread = state.thread_index();
  size_t frame = 0;
  for (auto _ : state) prof.add(Stage::decode, 0.0, 1e-3, frame++, thread);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProfilerAdd)->Threads(1)->Threads(2);

void BM_ScopedStage(benchmark::State& state) {
  StageProfiler prof;
  for (auto _ : state) {
    ScopedStage s(&prof, Stage::read, 0, 0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScopedStage);

}  // namespace
