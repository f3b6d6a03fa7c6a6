// `xrdbench devices [--json] [--check DEVICE]`: the OpenCL platforms and devices with their key limits, and the
// names `--device opencl:P:D` accepts; --check resolves a --device value and builds the kernels on it.
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "harness/cli.hpp"
#include "harness/environment.hpp"
#include "kernels/ocl_device.hpp"
#include "kernels/ocl_engine.hpp"

namespace po = boost::program_options;

namespace xrd::cli {
namespace {

int cmd_devices(int argc, char** argv) {
  bool json = false;
  std::string check;
  const Help help{
      "xrdbench devices [--json] [--check DEVICE]",
      "Lists the OpenCL platforms and devices this machine offers, with the limits that matter here (compute\n"
      "units, memory, largest buffer, local memory, work-group size, fp64). Commands that can use OpenCL take\n"
      "--device auto|cpu|opencl[:PLATFORM[:DEVICE]], PLATFORM and DEVICE being the indices shown here or parts of\n"
      "the names: `opencl` alone is the first GPU, else the first device; e.g. opencl:0:0, opencl:nvidia,\n"
      "opencl:pocl; `auto` (their default) opens one only when the work asked for needs it.",
      {"xrdbench devices", "xrdbench devices --check opencl:nvidia   # resolve it and build the kernels"}};
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(&json), "print JSON instead of a table")(
      "check", po::value<std::string>(&check),
      "resolve this --device value and build and run the decoder on it (exit 1 if that fails)");
  po::variables_map vm;
  if (!parse(argc, argv, help, desc, vm)) return 0;

  if (!check.empty()) {
    auto spec = ocl::parse_device_spec(check);
    if (!spec.is_opencl()) {
      std::printf("%s: the CPU engines (no OpenCL)\n", check.c_str());
      return 0;
    }
    ocl::DeviceContext ctx(spec);
    ocl::Decoder dec(ctx, 64, 16);
    const uint8_t stream[] = {1, 2, 0x80, 0x00, 0x01, 0xff};  // 1, 3, 259, 258
    int32_t out[4] = {};
    auto r = dec.decode(stream, out);
    const bool ok = r.ok() && out[0] == 1 && out[1] == 3 && out[2] == 259 && out[3] == 258;
    std::printf("%s -> %s [%s] %s (%s, driver %s): kernels %s\n", check.c_str(), ctx.info().id().c_str(),
                ctx.platform().c_str(), ctx.name().c_str(), ctx.type().c_str(), ctx.driver().c_str(),
                ok ? "build and decode correctly" : "DECODE WRONG");
    return ok ? 0 : 1;
  }

  auto all = ocl::list_devices();
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (auto& d : all) j.push_back(harness::opencl_device_json(d));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (all.empty()) {
    std::printf("No OpenCL device found (no platform: install an ICD such as pocl-opencl-icd, or a GPU driver's).\n");
    return 0;
  }
  int last_platform = -1;
  for (auto& d : all) {
    if (d.platform_index != last_platform) {
      std::printf("Platform %d: %s (%s)\n", d.platform_index, d.platform.c_str(), d.platform_version.c_str());
      last_platform = d.platform_index;
    }
    std::printf("  %-12s %s [%s] %s\n", d.id().c_str(), d.name.c_str(), d.type.c_str(), d.version.c_str());
    std::printf("               driver %s, %u compute units @ %u MHz, %.1f GiB memory (largest buffer %.1f GiB),\n"
                "               %.0f KiB local memory, work-groups up to %zu, fp64 %s\n",
                d.driver.c_str(), d.compute_units, d.clock_mhz, double(d.global_mem_bytes) / (1 << 30),
                double(d.max_alloc_bytes) / (1 << 30), double(d.local_mem_bytes) / 1024, d.max_work_group_size,
                d.fp64 ? "yes" : "no");
  }
  return 0;
}

const CommandRegistrar reg("devices", "list OpenCL platforms and devices (and check a --device value)", cmd_devices);

}  // namespace
}  // namespace xrd::cli
