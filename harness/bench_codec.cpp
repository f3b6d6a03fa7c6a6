// Micro-benchmarks of the byte-offset codec on the real Pilatus3 2M frame and on an escape-dense version of it:
// scalar reference vs fast decoder (int32 and float), each kernel this CPU runs, the encoder and MD5 of the payload.
// MB/s counts compressed bytes in; Mpixel/s counts decoded pixels out. `--decoder NAME` (bench_main.cpp) picks
// the kernel of the BM_decode_fast rows.
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
#include "harness/bench_fixtures.hpp"

namespace {

using namespace xrd;

// The frame's payload (after the 0x0C 0x1A 0x04 0xD5 start marker, X-Binary-Size bytes) and pixel count, read
// once per process. Found directly so the codec benchmarks depend on nothing but the codec.
struct CodecPayload {
  std::vector<uint8_t> payload;
  size_t pixels = 0;
};

size_t header_number(const std::string& header, const std::string& key) {
  const auto at = header.find(key + ":");
  if (at == std::string::npos) throw std::runtime_error("benchmark frame: no " + key + " in the CBF header");
  return std::stoull(header.substr(at + key.size() + 1));
}

const CodecPayload& frame() {
  static const CodecPayload f = [] {
    const auto path = xrd::bench::real_lab6_frame();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string() + " (set XRD_SHARED_DIR)");
    const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    static const uint8_t kStart[4] = {0x0C, 0x1A, 0x04, 0xD5};
    const auto it = std::search(file.begin(), file.end(), std::begin(kStart), std::end(kStart));
    if (it == file.end()) throw std::runtime_error(path.string() + ": no binary section start marker");
    const std::string header(file.begin(), it);
    CodecPayload fr;
    const size_t size = header_number(header, "X-Binary-Size");
    fr.pixels = header_number(header, "X-Binary-Number-of-Elements");
    const size_t off = static_cast<size_t>(it - file.begin()) + 4;
    if (off + size > file.size()) throw std::runtime_error(path.string() + ": payload runs past the end of file");
    fr.payload.assign(file.begin() + off, file.begin() + off + size);
    return fr;
  }();
  return f;
}

// The escape-dense frame: the real frame's counts times 3.65 (rounded; masked pixels, < 0, kept), written with our
// encoder. 195k 16-bit and 2.6k 32-bit escapes (the real frame: 60k and 15), as many 16-bit escapes as a Pilatus3
// 2M LaB6 frame at 139 mm (rings close to the beam); scripts/make_dense_frame.sh writes the same frame as a CBF file.
const CodecPayload& dense_frame() {
  static const CodecPayload f = [] {
    const CodecPayload& real = frame();
    std::vector<int32_t> px(real.pixels);
    if (!byte_offset::decode_scalar(real.payload, px).ok()) throw std::runtime_error("benchmark frame: does not decode");
    for (auto& v : px)
      if (v >= 0) v = static_cast<int32_t>((int64_t(v) * 73 + 10) / 20);
    CodecPayload d;
    d.pixels = real.pixels;
    byte_offset::encode(px, d.payload);
    return d;
  }();
  return f;
}

void report(benchmark::State& state, const CodecPayload& f) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.payload.size()));
  state.counters["Mpixel/s"] = benchmark::Counter(static_cast<double>(f.pixels) * 1e-6 *
                                                  static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

template <typename Out, typename Decode>
void run_decode(benchmark::State& state, const CodecPayload& f, Decode decode) {
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

void BM_encode(benchmark::State& state) {
  const CodecPayload& f = frame();
  std::vector<int32_t> px(f.pixels);
  if (!byte_offset::decode(f.payload, px).ok()) return state.SkipWithError("the frame does not decode");
  std::vector<uint8_t> enc;
  for (auto _ : state) {
    byte_offset::encode(px, enc);
    benchmark::DoNotOptimize(enc.data());
  }
  report(state, f);
}

void BM_md5_payload(benchmark::State& state) {
  const CodecPayload& f = frame();
  for (auto _ : state) benchmark::DoNotOptimize(md5(f.payload));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(f.payload.size()));
}

BENCHMARK(BM_encode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_md5_payload)->Unit(benchmark::kMillisecond);

using DecodeI32 = byte_offset::DecodeResult (*)(std::span<const uint8_t>, std::span<int32_t>, byte_offset::ElementType);
using DecodeF32 = byte_offset::DecodeResult (*)(std::span<const uint8_t>, std::span<float>, byte_offset::ElementType);

// BM_decode_{scalar,fast}/{int32,float}/{lab6,lab6-dense} (the fast rows labelled with the kernel decode() runs)
// and every kernel this CPU runs by name, BM_decode_kernel/avx2/int32/lab6, ...: kernels compared on one machine.
const bool kRegistered = [] {
  struct Named {
    const char* name;
    const CodecPayload& (*get)();
  };
  const Named frames[] = {{"lab6", frame}, {"lab6-dense", dense_frame}};
  for (const auto& fr : frames) {
    const auto get = fr.get;
    auto reg = [&](const std::string& name, DecodeI32 i32, DecodeF32 f32, bool label) {
      benchmark::RegisterBenchmark((name + "/int32/" + fr.name).c_str(), [=](benchmark::State& s) {
        if (label) s.SetLabel(byte_offset::fast_decoder_name());
        run_decode<int32_t>(s, get(), [=](auto in, auto out) { return i32(in, out, byte_offset::ElementType::i32); });
      })->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((name + "/float/" + fr.name).c_str(), [=](benchmark::State& s) {
        if (label) s.SetLabel(byte_offset::fast_decoder_name());
        run_decode<float>(s, get(), [=](auto in, auto out) { return f32(in, out, byte_offset::ElementType::i32); });
      })->Unit(benchmark::kMillisecond);
    };
    reg("BM_decode_scalar", [](auto in, auto out, auto t) { return byte_offset::decode_scalar(in, out, t); },
        [](auto in, auto out, auto t) { return byte_offset::decode_scalar(in, out, t); }, false);
    reg("BM_decode_fast", [](auto in, auto out, auto t) { return byte_offset::decode(in, out, t); },
        [](auto in, auto out, auto t) { return byte_offset::decode(in, out, t); }, true);
    for (const auto& k : byte_offset::decoder_kernels())
      if (k.supported()) reg(std::string("BM_decode_kernel/") + k.name, k.decode_i32, k.decode_f32, false);
  }
  return true;
}();

}  // namespace
