// The strategy interface: a strategy decides only where and when each step of a frame's trip runs (read -> parse ->
// [MD5] -> decode -> integrate -> sink): one thread, a pool of readers, a oneTBB pipeline, an OpenCL device. The steps
// themselves are kernels/ and datasets/ functions. Adding a strategy = one .cpp here + one line in registry.cpp.
#pragma once
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/profiler.hpp"
#include "datasets/frame_source.hpp"
#include "kernels/integrate.hpp"

namespace xrd::ocl {
class DeviceContext;
}

namespace xrd::strategies {

enum class Integrator { cpu, gpu };
const char* to_string(Integrator i);       // "cpu" | "gpu"
Integrator parse_integrator(const std::string& s);  // throws std::invalid_argument naming the accepted values

// Receives every frame's outcome, exactly once per frame: a pattern or an error. Calls are serialized by the strategy
// (never concurrent) but may come from any of its threads; strategies deliver frames in increasing index order.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void pattern(size_t frame, const integration::Pattern& p) = 0;
  // The frame could not be read, parsed, verified or decoded: the run goes on without it.
  virtual void error(size_t frame, const std::string& file, const std::string& reason) = 0;
  // A paced source dropped the frame (its buffer was full when the frame was released): not a failure of the frame.
  // Sinks that never see paced sources may keep the default, which reports it as an error.
  virtual void dropped(size_t frame) { error(frame, "", "dropped: the paced source's buffer was full"); }
};

struct Options {
  int readers = 0;                    // pool: reader threads; pipelines: frames in flight (0 = strategy default)
  Integrator integrator = Integrator::cpu;
  bool verify_md5 = false;            // check Content-MD5 of every frame (a mismatch fails the frame)
  int batch = 0;                      // opencl-batched: frames per device launch; fused: frames per token (0 = default)
  int threads = 0;                    // worker threads of parallel strategies (0 = every core)
  bool reference = false;             // sequential only: scalar reference decoder + plain CSR reference integrator
  // The integration engine by name (strategies/engines.hpp, NAME[:VARIANT]); "" = the strategy's default: fast on
  // the CPU, opencl with Integrator::gpu, reference with `reference`. Device strategies integrate on their device.
  std::string engine;
  double flush_ms = -1;               // opencl-batched: submit a partial batch this long after its first frame
                                      // arrived (paced runs); < 0: wait until the batch is full (batch runs)
  io::ReadMethod read_method = io::ReadMethod::pread;  // how the source reads files (--read-method), set per row
  int in_flight = 0;                  // opencl-batched: pinned staging slots per engine (0 = default, 2)
  int engines_per_device = 0;         // opencl-batched, one device: engines on it (0 = default, 2: two batches open)
  // pipeline, fused: reader threads reading the encoded frames ahead of the workers, in frame order, into a bounded
  // ring (datasets/frame_read_ahead.hpp; --read-ahead); 0 = none: each worker reads the frames it decodes.
  int read_ahead = 0;
  // The row is cold (its files on the disk, not in the page cache): opencl-batched's readers ask the disk for the
  // files ahead of the ones they read (FrameSource::prefetch: posix_fadvise), so that more requests are in flight
  // than readers; hot rows skip it (a system call per frame for pages already there).
  bool cold = false;
};

// Everything a run needs. The harness owns all of it and keeps it alive across the repetitions of a row.
struct RunContext {
  const frames::FrameSource* source = nullptr; // the dataset's frames, in order (frame index = position)
  frames::Codec codec = frames::Codec::byte_offset;  // the frames' codec (the dataset's): which decoder kernel runs
  const integration::Setup* setup = nullptr;        // CSR + corrections, built once per dataset
  ocl::DeviceContext* device = nullptr;       // the OpenCL device for gpu integration / opencl strategies, or null
  // `--device opencl:all`: the host's other devices, which strategies that spread batches (opencl-batched) use
  // beside `device`; the other strategies ignore them.
  std::vector<ocl::DeviceContext*> extra_devices;
  Options opt;
  FrameSink* sink = nullptr;
  StageProfiler* profiler = nullptr; // null = no stage timing
  const std::atomic<bool>* stop = nullptr;    // Ctrl-C: stop soon, between frames; the run is then discarded

  bool stopped() const { return stop && stop->load(std::memory_order_relaxed); }
  size_t frames() const { return source ? source->size() : 0; }
  // Times [t0, now) of a stage for a frame (no-op without a profiler). Use: `double t = ctx.now(); ...; ctx.add(...)`.
  double now() const { return profiler ? profiler->now() : 0.0; }
  void add(Stage s, double t0, size_t frame, int thread) const {
    if (profiler) profiler->add(s, t0, profiler->now(), frame, thread);
  }
};

// The kernels a strategy runs, known after prepare(): results.json's "decoder", "engine" and "engine_variant".
struct Kernels {
  std::string decoder;         // the CPU decoder kernel ("avx2", "scalar", ...) or "opencl" (decoded on the device)
  std::string engine;          // the engine table's name ("fast", "reference", "opencl", ...)
  std::string engine_variant;  // its kernel ("avx2-gather", "scalar"; the device for opencl); "" when it has one
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // What prepare() chose (empty before).
  const Kernels& kernels() const { return kernels_; }
  // Untimed, once per row before the runs: build engines (upload the matrix to a device), allocate buffers.
  // Throws xrd::Error when the strategy cannot run with these options (e.g. gpu integration without a device).
  virtual void prepare(RunContext& ctx) {}
  // Timed: process every frame of ctx.source once, delivering each frame to ctx.sink. A frame that fails goes to
  // sink.error() and the run goes on; only a failure of the strategy itself (device lost) throws.
  virtual void run(RunContext& ctx) = 0;

 protected:
  Kernels kernels_;  // set by prepare()
};

struct StrategyInfo {
  std::string name;         // "sequential", "pool", "opencl", ...
  std::string description;  // one line for `xrdbench strategies`
  bool uses_readers;        // --readers means something (results: "readers" is null otherwise)
  bool needs_device;        // always needs an OpenCL device, whatever --integrator says
  std::function<std::unique_ptr<Strategy>()> make;
  bool test = false;        // a test strategy of known cost (`xrdbench strategies` lists it under "test")
};

// Reader threads of our reader-based device design when --readers is not given: every core but two (the main thread
// and the driver's), at least 2: reading payloads into pinned memory is the end-to-end limit, not the device.
int default_readers();
// opencl-batched's readers on a cold row (Options::cold): the disk, not the copies, is the limit there, and more
// requests of their own read slower (reports/results/h200/s24/NOTES.md: 4 readers best of 2-28 in four sweeps).
inline constexpr int kColdDeviceReaders = 4;

// Worker threads of the parallel strategies for --threads `given`: given when > 0, else every core (at least 1).
// What the strategies run with, and what results.json's rows record as `threads`.
int worker_threads(int given);

// Frames per device launch of opencl-batched when --batch is not given. Measured on the H200 machine
// (reports/results/h200/s23/NOTES.md, two instances, two engines, 2 slots, 14 readers, --no-write): batch 12 16,249 /
// 17,012 frames/s, 8 15,741 / 15,418, 10 15,514, 16 11,443. Likely (not measured) because the staging a smaller batch
// was just written into is still in the L3 when the device reads it. Below ~readers/2 the two open batches cannot
// take every reader.
inline constexpr int kDefaultDeviceBatch = 12;

// Every strategy, in the order `xrdbench strategies` lists them.
const std::vector<StrategyInfo>& strategies();
// The strategy of that name; throws xrd::Error listing the known names when there is none.
const StrategyInfo& find_strategy(const std::string& name);

}  // namespace xrd::strategies
