// One interface for every integration engine (reference, csr-parallel, fast, csc, opencl): the strategies,
// `xrdbench integrate` and the micro-benchmarks hold an integration::Engine and never a concrete engine class.
// The engines are in one table by name (strategies/engines.cpp). A new engine = one file implementing Engine with a
// make_<name>_engine(setup, config) factory + one line in that table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "kernels/integrate.hpp"
#include "kernels/integrate_fast.hpp"

namespace xrd::ocl {
class DeviceContext;
}

namespace xrd::integration {

// What an engine is built with besides the Setup. Each engine reads the fields it needs.
struct EngineConfig {
  int threads = 0;                      // threads building the layout (0: every core)
  std::string variant;                  // the engine's own choice of kernel ("" = its default; fast: auto, gather,
                                        // scalar); an engine without variants refuses any other value
  ocl::DeviceContext* device = nullptr;  // opencl: the device (required)
  size_t max_frame_bytes = 0;           // opencl: bound of one frame's compressed bytes (sizes the staging)
};

// The per-bin sums of a frame integrated in pieces (Engine::accumulate), reused from frame to frame.
using Accumulator = FastIntegrator::Accumulator;

class Engine {
 public:
  virtual ~Engine() = default;

  virtual std::string name() const = 0;                 // its table name: "fast"
  virtual std::string variant() const { return {}; }   // the kernel it actually runs ("avx2", "scalar"; the device
                                                        // for opencl); "" when it has one way only
  virtual double build_seconds() const { return 0; }    // cost of its layout (on top of Setup::build_seconds)
  virtual size_t layout_bytes() const { return 0; }     // memory the per-frame loop streams, besides the image

  // Scratch memory a caller reuses from frame to frame: one per thread integrating at the same time.
  struct Workspace {
    virtual ~Workspace() = default;
  };
  virtual std::unique_ptr<Workspace> make_workspace() const { return nullptr; }
  // A whole frame (image.size() == width * height), into `out`. Parallel engines run in the caller's oneTBB arena.
  // `ws`: from make_workspace() (may be null for engines that return null).
  virtual void integrate(std::span<const int32_t> image, Pattern& out, Workspace* ws) const = 0;
  // Whether several threads may call integrate() at once, each with its own workspace (false: a device engine,
  // callers serialize).
  virtual bool concurrent() const { return true; }

  // Piece by piece (the fused strategy integrates each decoded block while it is in cache; a pipeline integrates a
  // whole frame on one core): engines that can sum a frame's pixels in pieces of any size and order.
  virtual bool blockwise() const { return false; }
  // The three below throw std::logic_error when !blockwise().
  virtual Accumulator make_accumulator() const;
  // Adds pixels [first, first + values.size()) of one frame to `acc`. Thread-safe (const).
  virtual void accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const;
  // Turns the sums of a whole frame into a pattern.
  virtual void finish(const Accumulator& acc, Pattern& out) const;
};

// The engines of this library (kernels/integrate*.cpp); opencl's is in kernels/ocl_engine.cpp. Each throws
// std::invalid_argument on a config it cannot honour (an unknown variant).
std::unique_ptr<Engine> make_reference_engine(const Setup& setup, const EngineConfig& config);
std::unique_ptr<Engine> make_csr_parallel_engine(const Setup& setup, const EngineConfig& config);
std::unique_ptr<Engine> make_fast_engine(const Setup& setup, const EngineConfig& config);
std::unique_ptr<Engine> make_csc_engine(const Setup& setup, const EngineConfig& config);

}  // namespace xrd::integration
