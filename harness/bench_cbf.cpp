// Micro-benchmarks of the CBF layer on the real Pilatus3 2M frame: header parse (no copy of the payload), the
// Content-MD5 check of the payload, a hot-cache file read into a reused buffer, and writing the frame to memory.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "datasets/cbf.hpp"
#include "harness/bench_fixtures.hpp"

namespace {

using namespace xrd;

std::filesystem::path frame_path() { return xrd::bench::real_lab6_frame(); }

const std::vector<uint8_t>& frame_bytes() {
  static const std::vector<uint8_t> b = [] {
    std::vector<uint8_t> v;
    cbf::read_file(frame_path(), v);
    return v;
  }();
  return b;
}

void BM_CbfParse2M(benchmark::State& state) {
  const auto& b = frame_bytes();
  for (auto _ : state) {
    auto v = cbf::parse(b, "2m.cbf");
    benchmark::DoNotOptimize(v.payload.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(b.size()));
}
BENCHMARK(BM_CbfParse2M)->Unit(benchmark::kMicrosecond);

void BM_CbfMd5Check2M(benchmark::State& state) {
  const auto& b = frame_bytes();
  const auto v = cbf::parse(b, "2m.cbf");
  for (auto _ : state) {
    auto s = cbf::check_md5(v);
    if (s != cbf::Md5Status::ok) state.SkipWithError("MD5 mismatch on the reference frame");
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(v.payload.size()));
}
BENCHMARK(BM_CbfMd5Check2M)->Unit(benchmark::kMillisecond);

void BM_CbfReadFileHot2M(benchmark::State& state) {
  std::vector<uint8_t> buf;
  const auto p = frame_path();
  for (auto _ : state) {
    cbf::read_file(p, buf);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(buf.size()));
}
BENCHMARK(BM_CbfReadFileHot2M)->Unit(benchmark::kMicrosecond);

void BM_CbfWrite2M(benchmark::State& state) {
  const auto& b = frame_bytes();
  const auto v = cbf::parse(b, "2m.cbf");
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, px);
  std::vector<uint8_t> out, scratch;
  for (auto _ : state) {
    cbf::write_to(out, px, v.binary.width, v.binary.height, v.header, scratch);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["Mpixel/s"] =
      benchmark::Counter(double(px.size()) * double(state.iterations()) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CbfWrite2M)->Unit(benchmark::kMillisecond);

}  // namespace
