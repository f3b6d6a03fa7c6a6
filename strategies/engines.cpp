// The engine table: name -> (description, variants, factory). A new engine is one file + one line here.
#include "strategies/engines.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "base/error.hpp"
#include "kernels/ocl_engine.hpp"

namespace xrd::strategies {

const std::vector<EngineInfo>& engines() {
  // name, description, variants, integrates on the device, factory
  static const std::vector<EngineInfo> all = {
      {"reference", "plain CSR, one thread, double sums: the definition of right (every row is validated against it)",
       "", false, integration::make_reference_engine},
      {"csr-parallel", "the same CSR sums, bins in parallel (oneTBB): pyFAI's CSR engine, bit-identical to reference",
       "", false, integration::make_csr_parallel_engine},
      {"fast", "strips of 64 Ki pixels, per strip the bins' pixels gathered and summed in registers (oneTBB)",
       "auto|gather|scalar", false, integration::make_fast_engine},
      {"csc", "pixel-major (CSC): per pixel its bins, the pixels' sums scattered into them (oneTBB)", "", false,
       integration::make_csc_engine},
      {"opencl", "an image decoded on the host, integrated on the OpenCL device (CSR kernel)", "", true,
       ocl::make_opencl_engine},
  };
  return all;
}

namespace {
std::string base_name(const std::string& spec) { return spec.substr(0, spec.find(':')); }
}  // namespace

const EngineInfo& find_engine(const std::string& spec) {
  const std::string name = base_name(spec);
  for (const auto& e : engines())
    if (e.name == name) return e;
  std::ostringstream known;
  for (const auto& e : engines()) known << (known.tellp() > 0 ? ", " : "") << e.name;
  throw Error("", "", "unknown engine '" + name + "' (known: " + known.str() + ")");
}

const EngineInfo& check_engine_spec(const std::string& spec) {
  const EngineInfo& info = find_engine(spec);
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return info;
  const std::string variant = spec.substr(colon + 1);
  std::vector<std::string> valid;
  for (size_t at = 0; !info.variants.empty() && at <= info.variants.size();) {
    const size_t bar = std::min(info.variants.find('|', at), info.variants.size());
    valid.push_back(info.variants.substr(at, bar - at));
    at = bar + 1;
  }
  if (std::find(valid.begin(), valid.end(), variant) != valid.end()) return info;
  std::string list;
  for (const auto& v : valid) list += (list.empty() ? "" : ", ") + info.name + ":" + v;
  throw Error("", "", "engine " + info.name + " has no variant '" + variant + "' (" +
                          (list.empty() ? "it has none: give " + info.name : "valid: " + list) + ")");
}

std::unique_ptr<integration::Engine> make_engine(const std::string& spec, const integration::Setup& setup,
                                                 integration::EngineConfig config) {
  const EngineInfo& info = find_engine(spec);
  if (const size_t colon = spec.find(':'); colon != std::string::npos) config.variant = spec.substr(colon + 1);
  try {
    return info.make(setup, config);
  } catch (const std::invalid_argument& e) {
    throw Error("", "", std::string("engine ") + info.name + ": " + e.what());
  }
}

}  // namespace xrd::strategies
