// Micro-benchmarks of the bitshuffle-LZ4 codec: one Eiger2 4M frame (uint16; the chunk of the file named by
// $XRD_BSLZ4_FILE, an NXmx master or single file, or else frame 0 of the synthetic model drawn on the eiger2-4m
// preset) decoded by the scalar reference and by every unshuffle kernel this CPU runs, on 1 and 2 threads; and the
// real Pilatus3 2M LaB6 frame (int32) in both codecs, so that their decode costs and sizes compare on one image.
// Counters: in_Bps = compressed bytes per second, out_Bps = uncompressed (stored element) bytes per second,
// bytes_per_pixel = compressed size / pixels. scripts/bench_bslz4.sh runs these beside h5py and bitshuffle.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/detectors.hpp"
#include "datasets/nxmx.hpp"
#include "datasets/synth.hpp"
#include "kernels/bslz4.hpp"
#include "kernels/byte_offset.hpp"
#include "kernels/ocl_bslz4.hpp"
#include "kernels/ocl_device.hpp"
#include "harness/bench_fixtures.hpp"

namespace {

using namespace xrd;

struct Chunk {
  std::vector<uint8_t> bytes;  // the encoded frame
  size_t pixels = 0;
  byte_offset::ElementType element = byte_offset::ElementType::u16;
};

const Chunk& eiger() {
  static const Chunk c = [] {
    Chunk k;
    const char* env = std::getenv("XRD_BSLZ4_FILE");
    if (env && *env) {
      frames::Hdf5FrameSource src({env});
      frames::EncodedFrame f;
      src.load(0, f);
      k.bytes.assign(f.payload.begin(), f.payload.end());
      k.pixels = f.pixels();
      k.element = f.element;
      return k;
    }
    const synth::Params p = synth::for_detector(detectors::find("eiger2-4m"));
    const synth::Generator g(p, 2);
    auto v = g.frame(0);
    for (auto& x : v)
      if (x < 0 || x >= 65535) x = 65535;  // as `dataset synth --format h5 --pixel uint16` stores them
    k.pixels = v.size();
    k.bytes = bslz4::encode(bslz4::to_element_bytes(v, k.element), 2);
    return k;
  }();
  return c;
}

// The real Pilatus3 2M frame: its byte-offset payload, and the same pixels as a bitshuffle-LZ4 int32 chunk.
struct Pilatus {
  std::vector<uint8_t> cbf_file;
  std::span<const uint8_t> byte_offset;
  Chunk bslz4;
};

const Pilatus& pilatus() {
  static const Pilatus p = [] {
    Pilatus r;
    const auto path = xrd::bench::real_lab6_frame();
    cbf::read_file(path, r.cbf_file);
    const auto v = cbf::parse(r.cbf_file, path.string());
    r.byte_offset = v.payload;
    std::vector<int32_t> px(v.binary.width * v.binary.height);
    cbf::decode(v, std::span<int32_t>(px));
    r.bslz4.pixels = px.size();
    r.bslz4.element = byte_offset::ElementType::i32;
    r.bslz4.bytes = bslz4::encode(bslz4::to_element_bytes(px, byte_offset::ElementType::i32), 4);
    return r;
  }();
  return p;
}

void counters(benchmark::State& s, size_t in, size_t out, size_t pixels) {
  const double n = static_cast<double>(s.iterations());
  s.counters["in_Bps"] = benchmark::Counter(static_cast<double>(in) * n, benchmark::Counter::kIsRate);
  s.counters["out_Bps"] = benchmark::Counter(static_cast<double>(out) * n, benchmark::Counter::kIsRate);
  s.counters["bytes_per_pixel"] = static_cast<double>(in) / static_cast<double>(pixels);
}

void decode_bench(benchmark::State& s, const Chunk& c, const bslz4::Kernel* k, int threads) {
  std::vector<int32_t> out(c.pixels);
  for (auto _ : s) {
    if (k)
      bslz4::decode(c.bytes, std::span<int32_t>(out), c.element, threads, k);
    else
      bslz4::decode_scalar(c.bytes, std::span<int32_t>(out), c.element);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  counters(s, c.bytes.size(), c.pixels * bslz4::element_size(c.element), c.pixels);
}

void register_all() {
  for (auto [name, chunk] : {std::pair{"eiger2_4m_u16", &eiger}, std::pair{"pilatus3_2m_lab6_i32", +[]() -> const Chunk& {
                               return pilatus().bslz4;
                             }}}) {
    const auto get = chunk;
    benchmark::RegisterBenchmark((std::string("BM_bslz4_decode/") + name + "/reference").c_str(),
                                 [get](benchmark::State& s) { decode_bench(s, get(), nullptr, 1); })
        ->Unit(benchmark::kMillisecond);
    for (const auto& k : bslz4::kernels()) {
      if (!k.supported()) continue;
      for (int threads : {1, 2})
        benchmark::RegisterBenchmark(
            (std::string("BM_bslz4_decode/") + name + "/" + k.name + "/threads:" + std::to_string(threads)).c_str(),
            [get, &k, threads](benchmark::State& s) { decode_bench(s, get(), &k, threads); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
  }
  // The same Pilatus image in byte-offset, decoded by the fast kernel (one thread: the codec has no blocks).
  benchmark::RegisterBenchmark("BM_bslz4_vs_byte_offset/pilatus3_2m_lab6_i32/byte-offset", [](benchmark::State& s) {
    const Pilatus& p = pilatus();
    std::vector<int32_t> out(p.bslz4.pixels);
    for (auto _ : s) {
      benchmark::DoNotOptimize(byte_offset::decode(p.byte_offset, std::span<int32_t>(out)));
      benchmark::ClobberMemory();
    }
    counters(s, p.byte_offset.size(), out.size() * 4, out.size());
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_bslz4_encode/eiger2_4m_u16", [](benchmark::State& s) {
    const Chunk& c = eiger();
    std::vector<int32_t> v(c.pixels);
    bslz4::decode(c.bytes, std::span<int32_t>(v), c.element);
    const auto bytes = bslz4::to_element_bytes(v, c.element);
    for (auto _ : s) benchmark::DoNotOptimize(bslz4::encode(bytes, 2));
    counters(s, c.bytes.size(), bytes.size(), c.pixels);
  })->Unit(benchmark::kMillisecond);
}

// The device decoder on the same Eiger2 4M chunk (upload + decode, image left on the device; the first OpenCL
// device, $XRD_BENCH_DEVICE to choose: "opencl:nvidia" on the GPU machine). Skipped without an OpenCL device.
void register_device() {
  if (ocl::list_devices().empty()) return;
  benchmark::RegisterBenchmark("BM_bslz4_ocl_decode/eiger2_4m_u16", [](benchmark::State& s) {
    const char* env = std::getenv("XRD_BENCH_DEVICE");
    static ocl::DeviceContext ctx(env && *env ? env : "opencl");
    const Chunk& c = eiger();
    static ocl::Bslz4Decoder dec(ctx, c.bytes.size(), c.pixels);
    double device_ms = 0;
    for (auto _ : s) {
      dec.decode(c.bytes, c.pixels, c.element);
      device_ms += dec.last_ms();
    }
    counters(s, c.bytes.size(), c.pixels * bslz4::element_size(c.element), c.pixels);
    s.counters["device_ms"] = device_ms / static_cast<double>(s.iterations());
    s.SetLabel(ctx.name());
  })->Unit(benchmark::kMillisecond)->UseRealTime();
}

const int registered = (register_all(), register_device(), 0);

}  // namespace
