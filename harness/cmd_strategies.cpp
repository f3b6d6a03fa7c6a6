// xrdbench strategies: the registered strategies, one line each, then the integration engines.
#include <cstdio>

#include "harness/cli.hpp"
#include "strategies/engines.hpp"
#include "strategies/strategy.hpp"

namespace {

int cmd_strategies(int argc, char** argv) {
  const xrd::cli::Help help{"xrdbench strategies",
                            "Lists the strategies `xrdbench run --strategy NAME` accepts, then the integration engines\n"
                             "(`xrdbench integrate --engine NAME[:VARIANT]`).",
                            {"xrdbench strategies"}};
  boost::program_options::options_description desc("Options");
  boost::program_options::variables_map vm;
  if (!xrd::cli::parse(argc, argv, help, desc, vm)) return 0;
  // The benchmark strategies, then the test strategies (known cost, for the realtime tests) under their heading.
  for (bool test : {false, true}) {
    bool heading = false;
    for (auto& s : xrd::strategies::strategies()) {
      if (s.test != test) continue;
      if (test && !heading) std::printf("\ntest:\n");
      heading = true;
      std::printf("%-16s %s%s\n", s.name.c_str(), s.description.c_str(),
                  s.needs_device ? " [OpenCL device]" : (s.uses_readers ? " [--readers]" : ""));
    }
  }
  std::printf("\nengines (integration; the first is the reference every row is validated against):\n");
  for (auto& e : xrd::strategies::engines())
    std::printf("%-16s %s%s%s\n", e.name.c_str(), e.description.c_str(),
                e.variants.empty() ? "" : (" [variants: " + e.variants + "]").c_str(),
                e.needs_device ? " [OpenCL device]" : "");
  return 0;
}

xrd::cli::CommandRegistrar reg("strategies", "list the strategies with a one-line description", cmd_strategies);

}  // namespace
