// Micro-benchmarks of the byte-offset codec on the real Pilatus3 2M frame: scalar reference vs fast decoder
// (int32 and float), each kernel this CPU runs, the encoder and MD5 of the payload.
// MB/s counts compressed bytes in; Mpixel/s counts decoded pixels out.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "kernels/md5.hpp"

namespace {

using namespace xrd;

// The frame's payload (after the 0x0C 0x1A 0x04 0xD5 start marker, X-Binary-Size bytes) and pixel count, read
// once per process. Found directly so the codec benchmarks depend on nothing but the codec.
struct Frame {
  std::vector<uint8_t> payload;
  size_t pixels = 0;
};

size_t header_number(const std::string& header, const std::string& key) {
  const auto at = header.find(key + ":");
  if (at == std::string::npos) throw std::runtime_error("benchmark frame: no " + key + " in the CBF header");
  return std::stoull(header.substr(at + key.size() + 1));
}

const Frame& frame() {
  static const Frame f = [] {
    const char* env = std::getenv("XRD_SHARED_DIR");
#ifdef XRD_SHARED_DIR
    const std::filesystem::path shared = env && *env ? env : XRD_SHARED_DIR;
#else
    const std::filesystem::path shared = env && *env ? env : "../shared";
#endif
    const auto path = shared / "fixtures/real/pilatus3x2m_lab6_300_00_0001p.cbf";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string() + " (set XRD_SHARED_DIR)");
    const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    static const uint8_t kStart[4] = {0x0C, 0x1A, 0x04, 0xD5};
    const auto it = std::search(file.begin(), file.end(), std::begin(kStart), std::end(kStart));
    if (it == file.end()) throw std::runtime_error(path.string() + ": no binary section start marker");
    const std::string header(file.begin(), it);
    Frame fr;
    const size_t size = header_number(header, "X-Binary-Size");
    fr.pixels = header_number(header, "X-Binary-Number-of-Elements");
    const size_t off = static_cast<size_t>(it - file.begin()) + 4;
    if (off + size > file.size()) throw std::runtime_error(path.string() + ": payload runs past the end of file");
    fr.payload.assign(file.begin() + off, file.begin() + off + size);
    return fr;
  }();
  return f;
}

void report(benchmark::State& state, const Frame& f) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.payload.size()));
  state.counters["Mpixel/s"] = benchmark::Counter(static_cast<double>(f.pixels) * 1e-6 *
                                                  static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

template <typename Out, typename Decode>
void run_decode(benchmark::State& state, Decode decode) {
  const Frame& f = frame();
  std::vector<Out> out(f.pixels);
  for (auto _ : state) {
    const auto r = decode(std::span<const uint8_t>(f.payload), std::span<Out>(out));
    if (!r.ok()) {
      state.SkipWithError(r.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  report(state, f);
}

template <typename Out>
void BM_decode_scalar(benchmark::State& state) {
  run_decode<Out>(state, [](auto in, auto out) { return bo::decode_scalar(in, out); });
}
template <typename Out>
void BM_decode_fast(benchmark::State& state) {
  state.SetLabel(bo::fast_decoder_name());
  run_decode<Out>(state, [](auto in, auto out) { return bo::decode(in, out); });
}

void BM_encode(benchmark::State& state) {
  const Frame& f = frame();
  std::vector<int32_t> px(f.pixels);
  if (!bo::decode(f.payload, px).ok()) return state.SkipWithError("the frame does not decode");
  std::vector<uint8_t> enc;
  for (auto _ : state) {
    bo::encode(px, enc);
    benchmark::DoNotOptimize(enc.data());
  }
  report(state, f);
}

void BM_md5_payload(benchmark::State& state) {
  const Frame& f = frame();
  for (auto _ : state) benchmark::DoNotOptimize(md5(f.payload));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.payload.size()));
}

BENCHMARK(BM_decode_scalar<int32_t>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_decode_fast<int32_t>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_decode_scalar<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_decode_fast<float>)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_encode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_md5_payload)->Unit(benchmark::kMillisecond);

// Every kernel this CPU runs, by name (BM_decode_kernel/avx2/int32, ...): compares kernels on the same machine.
const bool kPerKernel = [] {
  for (const auto& k : bo::decoder_kernels()) {
    if (!k.supported()) continue;
    const auto i32 = k.decode_i32;
    const auto f32 = k.decode_f32;
    benchmark::RegisterBenchmark((std::string("BM_decode_kernel/") + k.name + "/int32").c_str(),
                                 [i32](benchmark::State& s) {
                                   run_decode<int32_t>(s, [i32](auto in, auto out) { return i32(in, out, bo::ElementType::i32); });
                                 })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("BM_decode_kernel/") + k.name + "/float").c_str(),
                                 [f32](benchmark::State& s) {
                                   run_decode<float>(s, [f32](auto in, auto out) { return f32(in, out, bo::ElementType::i32); });
                                 })
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
