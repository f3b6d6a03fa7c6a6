// xrdbench strategies: the registered strategies, one line each.
#include <cstdio>

#include "harness/cli.hpp"
#include "strategies/strategy.hpp"

namespace {

int cmd_strategies(int argc, char** argv) {
  const xrd::cli::Help help{"xrdbench strategies",
                            "Lists the strategies `xrdbench run --strategy NAME` accepts.",
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
  return 0;
}

xrd::cli::CommandRegistrar reg("strategies", "list the strategies with a one-line description", cmd_strategies);

}  // namespace
