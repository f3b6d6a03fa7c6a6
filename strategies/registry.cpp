// The strategy registry: name -> (one-line description, factory). A new strategy is one file + one line here.
#include <algorithm>
#include <sstream>
#include <thread>

#include "base/enum_names.hpp"
#include "base/error.hpp"
#include "strategies/strategy.hpp"

namespace xrd::strategies {

int default_readers() { return std::max(2, static_cast<int>(std::thread::hardware_concurrency()) - 2); }

int worker_threads(int given) {
  return given > 0 ? given : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::unique_ptr<Strategy> make_sequential();
std::unique_ptr<Strategy> make_pool();
std::unique_ptr<Strategy> make_opencl();
std::unique_ptr<Strategy> make_pipeline();
std::unique_ptr<Strategy> make_fused();
std::unique_ptr<Strategy> make_opencl_batched();
std::unique_ptr<Strategy> make_test_sleep();

const std::vector<StrategyInfo>& strategies() {
  // name, description, uses --readers, always needs a device, factory
  static const std::vector<StrategyInfo> all = {
      {"sequential", "one thread reads, decodes (CPU) and integrates (--integrator cpu|gpu), frame after frame",
       false, false, make_sequential},
      {"pool", "N reader threads read+decode into a bounded queue; the main thread integrates (cpu|gpu) in order",
       true, false, make_pool},
      {"opencl", "compressed bytes go to the OpenCL device, which decodes and integrates, one frame at a time",
       false, true, make_opencl},
      {"pipeline", "oneTBB parallel_pipeline on every core: read -> decode -> integrate (fast CPU engine) -> write",
       false, false, make_pipeline},
      {"fused", "oneTBB pipeline, each decoded block integrated while in cache: the decoded image is never stored",
       false, false, make_fused},
      {"opencl-batched", "readers feed batches of compressed frames to the device; double-buffered async chain",
       true, true, make_opencl_batched},
      {"test-sleep-10ms", "test strategy: as sequential, each frame held for 10 ms of service: 100 frames/s (realtime tests)", false,
       false, make_test_sleep, true},
  };
  return all;
}

const StrategyInfo& find_strategy(const std::string& name) {
  for (auto& s : strategies())
    if (s.name == name) return s;
  std::ostringstream known;
  for (auto& s : strategies()) known << (known.tellp() > 0 ? ", " : "") << s.name;
  throw Error("", "", "unknown strategy '" + name + "' (known: " + known.str() + ")");
}

namespace {
constexpr EnumName<Integrator> kIntegratorNames[] = {{Integrator::cpu, "cpu"}, {Integrator::gpu, "gpu"}};
}  // namespace

const char* to_string(Integrator i) { return enum_name(kIntegratorNames, i); }
Integrator parse_integrator(const std::string& s) { return parse_enum(kIntegratorNames, s, "integrator"); }

}  // namespace xrd::strategies
