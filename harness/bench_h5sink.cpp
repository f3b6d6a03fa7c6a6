// Micro-benchmarks of writing the reduced patterns to HDF5 (harness/sinks.hpp, harness/h5_writer.hpp), the sink of
// every row that writes its sinogram: how many 1000-bin patterns per second the file takes, so that a GPU row's
// end-to-end rate can be compared with what its sink can absorb.
//   BM_NxWriterPerRow   one NxWriter::write per frame (the sink's design before it wrote in runs)
//   BM_NxWriterRuns/N   NxWriter::write_rows in runs of N consecutive frames
//   BM_H5FileSink/E     the write-behind sink (H5File): patterns delivered by E engines' batches of 16 interleaved
//                       (frames arrive out of order, as opencl-batched with 2 engines delivers them), then close()
//   BM_NxWriterOpenClose/S  the file alone (created, closed, no pattern): the fixed cost a run pays, timed inside its
//                       wall time; S = 1: with the 1202 source file names a row's file records (the runner's layout;
//                       2-core VM: 1.2 ms), S = 0: without (7.8 ms: HDF5 fills the unwritten names at close)
// 1202 frames (the device runs' dataset), float32 intensity and sigma + count, written to a temporary folder.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "harness/h5_writer.hpp"
#include "harness/sinks.hpp"

namespace {

using namespace xrd;

constexpr size_t kFrames = 1202, kBins = 1000;

// The benchmarks' files, in a folder of this process (removed when it exits).
struct OutDir {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("xrdbench_micro_h5_" + std::to_string(::getpid()));
  ~OutDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::filesystem::path out_file(const char* name) {
  static OutDir out;
  std::filesystem::create_directories(out.dir);
  return out.dir / name;
}

h5::NxLayout layout() {
  h5::NxLayout l;
  l.frames = kFrames;
  l.radial_unit = "q_nm^-1";
  l.radial.resize(kBins);
  for (size_t b = 0; b < kBins; ++b) l.radial[b] = 0.05 * static_cast<double>(b + 1);
  return l;
}

integration::Pattern pattern_for(size_t frame) {
  integration::Pattern p;
  p.resize(kBins);
  for (size_t b = 0; b < kBins; ++b) {
    p.intensity[b] = 100.0 + static_cast<double>((frame * 7 + b) % 997);
    p.sigma[b] = std::sqrt(p.intensity[b]);
    p.count[b] = 1000.0 + static_cast<double>(b);
  }
  return p;
}

const std::vector<integration::Pattern>& patterns() {
  static const std::vector<integration::Pattern> v = [] {
    std::vector<integration::Pattern> all;
    for (size_t f = 0; f < kFrames; ++f) all.push_back(pattern_for(f));
    return all;
  }();
  return v;
}

void count_frames(benchmark::State& state) {
  state.counters["patterns/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kFrames), benchmark::Counter::kIsRate);
}

void BM_NxWriterPerRow(benchmark::State& state) {
  const auto& ps = patterns();
  const auto path = out_file("per_row.h5");
  for (auto _ : state) {
    h5::NxWriter w(path, layout());
    for (size_t f = 0; f < kFrames; ++f) w.write(f, ps[f]);
    w.close();
  }
  count_frames(state);
}
BENCHMARK(BM_NxWriterPerRow)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_NxWriterRuns(benchmark::State& state) {
  const auto& ps = patterns();
  const size_t run = static_cast<size_t>(state.range(0));
  const auto path = out_file("runs.h5");
  std::vector<double> in, sg, ct;
  for (auto _ : state) {
    h5::NxWriter w(path, layout());
    for (size_t f = 0; f < kFrames; f += run) {
      const size_t n = std::min(run, kFrames - f);
      in.clear(), sg.clear(), ct.clear();
      for (size_t i = f; i < f + n; ++i) {
        in.insert(in.end(), ps[i].intensity.begin(), ps[i].intensity.end());
        sg.insert(sg.end(), ps[i].sigma.begin(), ps[i].sigma.end());
        ct.insert(ct.end(), ps[i].count.begin(), ps[i].count.end());
      }
      w.write_rows(f, n, in, sg, ct);
    }
    w.close();
  }
  count_frames(state);
}
BENCHMARK(BM_NxWriterRuns)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_H5FileSink(benchmark::State& state) {
  const auto& ps = patterns();
  const size_t engines = static_cast<size_t>(state.range(0)), batch = 16;
  harness::sinks::H5File sink(out_file("sink.h5"), layout());
  for (auto _ : state) {
    sink.open();
    // Engine e delivers batches e, e + engines, ...; the batches of the engines alternate.
    for (size_t base = 0; base < kFrames; base += batch * engines)
      for (size_t e = 0; e < engines; ++e)
        for (size_t f = base + e * batch; f < std::min(base + (e + 1) * batch, kFrames); ++f) sink.pattern(f, ps[f]);
    sink.close();
    if (!sink.write_error.empty()) state.SkipWithError(sink.write_error.c_str());
  }
  count_frames(state);
}
void BM_NxWriterOpenClose(benchmark::State& state) {
  h5::NxLayout l = layout();
  if (state.range(0))
    for (size_t f = 0; f < kFrames; ++f) {
      char name[96];
      std::snprintf(name, sizeof name, "/data/id15/xrdct/sample_42/scan_0007/frame_%05zu.cbf", f);
      l.source_files.emplace_back(name);
    }
  const auto path = out_file("open_close.h5");
  for (auto _ : state) {
    h5::NxWriter w(path, l);
    w.close();
  }
}
BENCHMARK(BM_NxWriterOpenClose)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_H5FileSink)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
