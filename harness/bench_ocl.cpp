// Micro-benchmarks of the OpenCL engine (kernels/ocl_engine.hpp) on the real Pilatus3 2M LaB6 frame (repeated)
// and a synthetic 2M scan (datasets/synth.hpp): host<->device bandwidth, the device-resident chain (compressed
// bytes up, decode + integrate, patterns down) with the decode and integrate kernel times from OpenCL profiling,
// integrate-only from decoded host images, and the synchronous decode-only round trip (`cbf info --device`).
//
// Environment: XRD_OCL_DEVICE (default "opencl": the first GPU, else the first device), XRD_OCL_FRAMES (frames
// per pass, default 64), XRD_SHARED_DIR (fixtures). Counters: fps = frames per second of wall time; *_kernel_fps
// from the device's own timestamps; h2d_GBps = bytes uploaded / upload time (profiling events).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/data_paths.hpp"
#include "datasets/cbf.hpp"
#include "datasets/detectors.hpp"
#include "datasets/mask.hpp"
#include "datasets/nxmx.hpp"
#include "datasets/poni.hpp"
#include "datasets/synth.hpp"
#include "kernels/bslz4.hpp"
#include "kernels/integrate.hpp"
#include "kernels/ocl_device.hpp"
#include "kernels/ocl_engine.hpp"

namespace {

using namespace xrd;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
size_t frames_per_pass() { return std::stoul(env_or("XRD_OCL_FRAMES", "64")); }

ocl::DeviceContext& context() {
  static ocl::DeviceContext ctx = [] {
    ocl::DeviceContext c(env_or("XRD_OCL_DEVICE", "opencl"));
    benchmark::AddCustomContext("ocl_device", c.name());
    benchmark::AddCustomContext("ocl_platform", c.platform());
    benchmark::AddCustomContext("ocl_driver", c.driver());
    benchmark::AddCustomContext("ocl_type", c.type());
    return c;
  }();
  return ctx;
}

// One dataset in host memory: compressed payloads, a few decoded images, the integration setup (1000 bins, q_nm^-1,
// bbox splitting, mask; solid angle on, as pyFAI's default) and the CPU reference pattern of frame 0.
struct Workload {
  std::string name;
  size_t width = 0, height = 0;
  integration::Setup setup;
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<int32_t> images;  // the first `image_count` frames decoded, back to back
  int image_count = 0;
  size_t max_bytes = 0;
  double mean_bytes = 0;
  integration::Pattern reference0;
  ocl::Payload codec = ocl::Payload::byte_offset;
  byte_offset::ElementType element = byte_offset::ElementType::i32;
};

integration::Options bench_options() {
  integration::Options o;
  o.bins = 1000;
  o.unit = integration::Unit::q_nm;
  o.split = integration::Split::bbox;
  return o;
}

void finish(Workload& w) {
  w.max_bytes = 0;
  double sum = 0;
  for (auto& p : w.payloads) {
    w.max_bytes = std::max(w.max_bytes, p.size());
    sum += double(p.size());
  }
  w.mean_bytes = sum / double(w.payloads.size());
  integration::integrate(w.setup, std::span<const int32_t>(w.images).first(w.width * w.height), w.reference0);
}

Workload& real_2m() {
  static Workload w = [] {
    Workload w;
    w.name = "real_lab6_2m";
    const auto dir = paths::fixtures_dir() / "real";
    const auto path = dir / "pilatus3x2m_lab6_300_00_0001p.cbf";
    std::vector<uint8_t> bytes;
    cbf::read_file(path, bytes);
    auto v = cbf::parse(bytes, path.string());
    w.width = v.binary.width;
    w.height = v.binary.height;
    auto mask = mask::read(paths::fixtures_dir() / "pilatus2m_mask.cbf", w.width, w.height);
    w.setup = integration::build_setup(poni::read(dir / "pilatus3x2m_lab6_300_00_0001p.poni"), mask, w.width, w.height,
                                 bench_options());
    w.payloads.assign(frames_per_pass(), std::vector<uint8_t>(v.payload.begin(), v.payload.end()));
    w.image_count = 16;
    std::vector<int32_t> img(w.width * w.height);
    cbf::decode(v, img, true);  // the scalar reference: the truth the device is compared with
    for (int i = 0; i < w.image_count; ++i) w.images.insert(w.images.end(), img.begin(), img.end());
    finish(w);
    return w;
  }();
  return w;
}

Workload& synth_2m() {
  static Workload w = [] {
    Workload w;
    w.name = "synth_2m";
    synth::Params p;
    p.frames = frames_per_pass();
    synth::Generator gen(p, int(std::max(1u, std::thread::hardware_concurrency())));
    w.width = synth::kWidth;
    w.height = synth::kHeight;
    std::vector<uint8_t> mask(synth::kPixels);
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = gen.mask()[i] != 0;
    w.setup = integration::build_setup(poni::parse(gen.poni_text(), "synth.poni"), mask, w.width, w.height,
                                 bench_options());
    w.payloads.resize(p.frames);
    w.image_count = 16;
    w.images.resize(size_t(w.image_count) * synth::kPixels);
    const unsigned nt = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < nt; ++t)
      pool.emplace_back([&, t] {
        synth::FrameScratch scratch;
        std::vector<int32_t> img(synth::kPixels);
        for (size_t i = t; i < p.frames; i += nt) {
          gen.frame(i, img, scratch);
          byte_offset::encode(img, w.payloads[i]);
          if (i < size_t(w.image_count)) std::copy(img.begin(), img.end(), w.images.begin() + i * synth::kPixels);
        }
      });
    for (auto& th : pool) th.join();
    finish(w);
    return w;
  }();
  return w;
}

// A synthetic Eiger2 4M scan (2068 x 2162, the preset's gaps and geometry) stored as its NXmx files store it:
// `element` pixels (gaps, dead and overflowing pixels at 2^N - 1), one bitshuffle-LZ4 chunk per frame.
Workload& eiger_4m(byte_offset::ElementType element) {
  static std::map<byte_offset::ElementType, Workload> cache;
  auto it = cache.find(element);
  if (it != cache.end()) return it->second;
  Workload& w = cache[element];
  w.name = std::string("synth_eiger2_4m_bslz4_") + (element == byte_offset::ElementType::u16 ? "u16" : "u32");
  w.codec = ocl::Payload::bslz4;
  w.element = element;
  synth::Params p = synth::for_detector(detectors::find("eiger2-4m"));
  p.frames = frames_per_pass();
  synth::Generator gen(p, int(std::max(1u, std::thread::hardware_concurrency())));
  w.width = p.layout.width;
  w.height = p.layout.height;
  const size_t px = w.width * w.height;
  std::vector<uint8_t> mask(px);
  for (size_t i = 0; i < px; ++i) mask[i] = gen.mask()[i] != 0;
  w.setup = integration::build_setup(poni::parse(gen.poni_text(), "synth.poni"), mask, w.width, w.height,
                                     bench_options());
  w.payloads.resize(p.frames);
  w.image_count = 1;
  w.images.resize(px);
  const int64_t top = element == byte_offset::ElementType::u16 ? 65535 : 4294967295LL;
  const unsigned nt = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < nt; ++t)
    pool.emplace_back([&, t] {
      synth::FrameScratch scratch;
      std::vector<int32_t> img(px);
      for (size_t i = t; i < p.frames; i += nt) {
        gen.frame(i, img, scratch);
        for (auto& x : img)  // as the detector stores them (synth_dataset.cpp's to_detector)
          if (x < 0 || x >= top) x = static_cast<int32_t>(static_cast<uint32_t>(top));
        w.payloads[i] = bslz4::encode(bslz4::to_element_bytes(img, element), bslz4::element_size(element));
        if (i == 0) {
          std::vector<int32_t> ref(px);
          bslz4::decode_scalar(w.payloads[0], std::span<int32_t>(ref), element);  // the truth the device is compared with
          nxmx::mask_overflow(std::span<int32_t>(ref), element);
          std::copy(ref.begin(), ref.end(), w.images.begin());
        }
      }
    });
  for (auto& th : pool) th.join();
  finish(w);
  return w;
}

ocl::Engine& engine(Workload& w, int batch, int bslz4_wg = 0) {
  static std::map<std::tuple<std::string, int, int>, std::unique_ptr<ocl::Engine>> engines;
  auto& e = engines[{w.name, batch, bslz4_wg}];
  ocl::EngineOptions opt;
  opt.depth = 3;  // slack so the upload of the next batch never waits for the host
  opt.bslz4_work_group = bslz4_wg;
  if (!e) e = std::make_unique<ocl::Engine>(context(), w.setup, w.max_bytes, batch, opt);
  return *e;
}

double max_rel_diff(const integration::Pattern& ref, const integration::Pattern& got) {
  double m = 0;
  for (size_t b = 0; b < ref.count.size(); ++b) {
    if (ref.count[b] <= 0.5) continue;
    for (auto [x, y] : {std::pair{got.intensity[b], ref.intensity[b]}, {got.sum_signal[b], ref.sum_signal[b]},
                        {got.sum_normalization[b], ref.sum_normalization[b]}, {got.count[b], ref.count[b]}})
      m = std::max(m, std::abs(x - y) / std::max(std::abs(y), 1e-300));
  }
  return m;
}

void BM_OclBandwidth(benchmark::State& st) {
  auto& ctx = context();
  ocl::Bandwidth bw;
  for (auto _ : st) bw = ocl::measure_bandwidth(ctx, size_t(64) << 20, 20);
  st.counters["h2d_pinned_GBps"] = bw.h2d_pinned_GBps;
  st.counters["h2d_pageable_GBps"] = bw.h2d_pageable_GBps;
  st.counters["d2h_pinned_GBps"] = bw.d2h_pinned_GBps;
  st.SetLabel(ctx.name());
}
BENCHMARK(BM_OclBandwidth)->Iterations(1)->Unit(benchmark::kMillisecond);

// The device-resident chain. copy = 0 ("in_pinned"): the compressed frames already sit in the engine's pinned
// staging, as when a reader reads files straight into it (Staging::claim or reserve/commit): the pass is the
// depth x batch frames the staging holds, so the loop measures upload + device work + results. copy = N > 0:
// every frame of the pass is copied from ordinary host memory into the staging by N threads first.
void chain(benchmark::State& st, Workload& w, bool wg_arg = false) {
  const int batch = int(st.range(0));
  const int copy_threads = int(st.range(1));
  auto& eng = engine(w, batch, wg_arg ? int(st.range(2)) : 0);
  const size_t px = w.width * w.height;
  // in_pinned: exactly one batch per staging slot per pass, so each slot keeps its frames (reused cyclically when the
  // dataset is smaller) and nothing is copied once warm.
  const size_t n = copy_threads ? w.payloads.size() : size_t(eng.depth()) * batch;
  auto payload = [&](size_t i) -> const std::vector<uint8_t>& { return w.payloads[i % w.payloads.size()]; };
  std::map<const uint8_t*, std::vector<size_t>> in_slot;  // slot (first frame's address) -> frames it holds
  ocl::BatchResult res;
  double h2d_ms = 0, dec_ms = 0, int_ms = 0, dev_ms = 0, bytes_up = 0, frames = 0, errors = 0, diff = 0;
  double fill_s = 0, submit_s = 0, wait_s = 0, batches = 0;
  using clock = std::chrono::steady_clock;
  auto since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  bool counting = true;
  auto take = [&] {
    const auto t0 = clock::now();
    eng.complete(res);
    if (!counting) return;
    wait_s += since(t0);
    for (size_t k = 0; k < res.size(); ++k) {
      if (res.frames[k].error) ++errors;
      else if (res.frames[k].tag == 0) diff = std::max(diff, max_rel_diff(w.reference0, res.frames[k].pattern));
    }
    h2d_ms += res.h2d_ms;
    dec_ms += res.decode_ms;
    int_ms += res.integrate_ms;
    dev_ms += res.device_ms;
    bytes_up += double(res.bytes_up);
    frames += double(res.size());
    batches += 1;
  };
  std::vector<std::span<uint8_t>> dst;
  std::vector<size_t> ids;
  auto pass = [&] {
    for (size_t next = 0; next < n;) {
      const auto t0 = clock::now();
      ocl::Staging& s = eng.staging();
      const uint8_t* slot = s.reserve().data();
      dst.clear();
      ids.clear();
      while (s.size() < s.capacity() && next < n) {
        const auto& p = payload(next);
        dst.push_back(s.claim(0, p.size(), px, w.element, {}, next, w.codec));
        ids.push_back(next++);
      }
      auto& held = in_slot[slot];
      if (copy_threads || held != ids) {
        const int nt = std::max(1, copy_threads);
        auto work = [&](int t) {
          for (size_t k = size_t(t); k < ids.size(); k += size_t(nt))
            std::copy(payload(ids[k]).begin(), payload(ids[k]).end(), dst[k].begin());
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < nt; ++t) pool.emplace_back(work, t);
        work(0);
        for (auto& th : pool) th.join();
        held = ids;
      }
      fill_s += since(t0);
      const auto t1 = clock::now();
      eng.submit(s);
      submit_s += since(t1);
      if (eng.in_flight() == eng.depth()) take();
    }
  };
  // The pipeline stays full from pass to pass (steady state, as in a long scan); it is drained only at the end,
  // and what completes then is not counted.
  pass();  // warm-up: kernels built, buffers touched, pinned staging filled
  h2d_ms = dec_ms = int_ms = dev_ms = bytes_up = frames = fill_s = submit_s = wait_s = batches = 0;
  const auto t_loop = clock::now();
  for (auto _ : st) pass();
  const double loop_s = since(t_loop);  // wall time of the timed passes (the frames completed in them: `frames`)
  counting = false;
  while (eng.in_flight()) take();
  if (errors > 0) st.SkipWithError("frames failed on the device");
  st.counters["fps"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  st.counters["decode_kernel_fps"] = dec_ms > 0 ? frames / (dec_ms * 1e-3) : 0;
  st.counters["integrate_kernel_fps"] = int_ms > 0 ? frames / (int_ms * 1e-3) : 0;
  st.counters["h2d_GBps"] = h2d_ms > 0 ? bytes_up / (h2d_ms * 1e-3) * 1e-9 : 0;
  st.counters["h2d_bound_fps"] = h2d_ms > 0 ? frames / (h2d_ms * 1e-3) : 0;
  // The chain against that bound, measured in the same batches: fps / h2d_bound_fps, and ms per frame.
  st.counters["ms_per_frame"] = frames > 0 ? 1e3 * loop_s / frames : 0;
  st.counters["pct_of_h2d_bound"] = h2d_ms > 0 && loop_s > 0 ? 100.0 * (frames / loop_s) / (frames / (h2d_ms * 1e-3)) : 0;
  st.counters["MB_per_frame"] = w.mean_bytes * 1e-6;
  st.counters["max_rel_diff"] = diff;
  // Where a batch's time goes: host filling the staging, enqueueing, waiting in complete(); device, upload start
  // to results back.
  st.counters["fill_ms_per_batch"] = batches ? 1e3 * fill_s / batches : 0;
  st.counters["submit_ms_per_batch"] = batches ? 1e3 * submit_s / batches : 0;
  st.counters["wait_ms_per_batch"] = batches ? 1e3 * wait_s / batches : 0;
  st.counters["device_ms_per_batch"] = batches ? dev_ms / batches : 0;
  st.counters["frames_per_pass"] = double(n);
  st.SetLabel(w.name + (copy_threads ? ", payloads copied into pinned staging by " + std::to_string(copy_threads) +
                                           " thread(s)"
                                     : ", payloads in pinned staging"));
}
void BM_OclChain_Real(benchmark::State& st) { chain(st, real_2m()); }
void BM_OclChain_Synth(benchmark::State& st) { chain(st, synth_2m()); }
BENCHMARK(BM_OclChain_Real)->ArgsProduct({{4, 16, 32}, {0, 1, 4}})->ArgNames({"batch", "copy"})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OclChain_Synth)->ArgsProduct({{4, 16, 32}, {0, 1, 4}})->ArgNames({"batch", "copy"})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
// Bitshuffle-LZ4 (an Eiger2 4M frame's chunk as stored, header and block sizes included): the chain decodes it with
// kernels/bslz4.cl into the frame's image slot, then integrates. Third argument: threads per work-group of the
// decoder (one group per 8 KiB block).
void BM_OclChain_Eiger4M_Bslz4_U16(benchmark::State& st) { chain(st, eiger_4m(byte_offset::ElementType::u16), true); }
void BM_OclChain_Eiger4M_Bslz4_U32(benchmark::State& st) { chain(st, eiger_4m(byte_offset::ElementType::u32), true); }
BENCHMARK(BM_OclChain_Eiger4M_Bslz4_U16)->ArgsProduct({{16, 32}, {0, 4}, {64}})
    ->Args({16, 0, 32})->Args({16, 0, 128})->ArgNames({"batch", "copy", "wg"})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OclChain_Eiger4M_Bslz4_U32)->ArgsProduct({{16, 32}, {0, 4}, {64}})->ArgNames({"batch", "copy", "wg"})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

// CPU decode, GPU integrate: decoded int32 images uploaded (10 MB each) and integrated, `batch` per launch.
void integrate_host(benchmark::State& st, Workload& w) {
  const int batch = int(std::min<int64_t>(st.range(0), w.image_count));
  auto& eng = engine(w, 1);
  std::vector<integration::Pattern> out;
  const size_t px = w.width * w.height;
  std::span<const int32_t> imgs(w.images.data(), size_t(batch) * px);
  for (auto _ : st) eng.integrate(imgs, batch, out);
  st.counters["fps"] = benchmark::Counter(double(st.iterations()) * batch, benchmark::Counter::kIsRate);
  st.counters["max_rel_diff"] = max_rel_diff(w.reference0, out[0]);
  st.SetLabel(w.name);
}
void BM_OclIntegrateHost_Real(benchmark::State& st) { integrate_host(st, real_2m()); }
void BM_OclIntegrateHost_Synth(benchmark::State& st) { integrate_host(st, synth_2m()); }
BENCHMARK(BM_OclIntegrateHost_Real)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OclIntegrateHost_Synth)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

// Decode only, synchronous, image back to the host (what `cbf info --device` does per file).
void decode_roundtrip(benchmark::State& st, Workload& w) {
  auto& eng = engine(w, 1);
  std::vector<int32_t> out(w.width * w.height);
  size_t i = 0;
  for (auto _ : st) {
    auto r = eng.decode(w.payloads[i++ % w.payloads.size()], out);
    if (!r.ok()) st.SkipWithError(r.message().c_str());
  }
  st.counters["fps"] = benchmark::Counter(double(st.iterations()), benchmark::Counter::kIsRate);
  st.SetLabel(w.name);
}
void BM_OclDecodeRoundTrip_Real(benchmark::State& st) { decode_roundtrip(st, real_2m()); }
void BM_OclDecodeRoundTrip_Synth(benchmark::State& st) { decode_roundtrip(st, synth_2m()); }
BENCHMARK(BM_OclDecodeRoundTrip_Real)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OclDecodeRoundTrip_Synth)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
