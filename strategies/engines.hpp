// The integration engines by name: one table (engines.cpp), used by the strategies (HostIntegrator, the oneTBB
// pipelines), `xrdbench integrate --engine` and the micro-benchmarks (harness/bench_integrate.cpp). A new engine =
// one file implementing integration::Engine (kernels/integrate_engine.hpp) + one line in engines.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/integrate_engine.hpp"

namespace xrd::strategies {

struct EngineInfo {
  std::string name;         // "reference", "csr-parallel", "fast", "csc", "opencl"
  std::string description;  // one line for `xrdbench strategies`
  std::string variants;     // what `--engine NAME:VARIANT` takes, "" when none ("auto|gather|scalar")
  bool needs_device;        // integrates on the OpenCL device (EngineConfig::device)
  std::function<std::unique_ptr<integration::Engine>(const integration::Setup&, const integration::EngineConfig&)>
      make;
};

// Every engine, in the order `xrdbench strategies` lists them; the first is the reference (the definition of right).
const std::vector<EngineInfo>& engines();
// The engine of that name (a ":VARIANT" suffix is ignored); throws xrd::Error listing the known names when none.
const EngineInfo& find_engine(const std::string& name);
// Checks `spec` (NAME[:VARIANT]) against the table without building anything, as the command lines do before any
// work: throws xrd::Error listing the known names for an unknown NAME ("unknown engine 'x' (known: reference, ...)"),
// or the engine's variants for a VARIANT it does not list ("engine fast has no variant 'turbo' (valid: fast:auto,
// fast:gather, fast:scalar)"). Returns the engine's entry.
const EngineInfo& check_engine_spec(const std::string& spec);
// Builds engine `spec` ("fast", or "fast:scalar": NAME[:VARIANT], the variant going to config.variant) for `setup`.
// Throws xrd::Error naming the engine when it is unknown or cannot be built with this config (a variant it lacks,
// no device for opencl).
std::unique_ptr<integration::Engine> make_engine(const std::string& spec, const integration::Setup& setup,
                                                 integration::EngineConfig config = {});

}  // namespace xrd::strategies
