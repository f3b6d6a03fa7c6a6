// xrdbench: entry point; dispatches to the subcommands registered by harness/cmd_*.cpp.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "harness/build_info.hpp"
#include "harness/cli.hpp"
#include "base/error.hpp"

static void usage(FILE* out) {
  auto cmds = xrd::cli::commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::fprintf(out,
               "xrdbench " XRD_VERSION
               " - benchmark and profile real-time X-ray diffraction data reduction\n\n"
               "Usage: xrdbench <command> [options]   (xrdbench <command> --help for its options)\n"
               "       xrdbench --version             (version and git commit)\n\nCommands:\n");
  for (auto& c : cmds) std::fprintf(out, "  %-16s %s\n", c.name.c_str(), c.summary.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "-V")) {
    // The commit is the one configured (cmake reads it; re-run cmake after committing to refresh it).
    std::printf("xrdbench %s (commit %s)\n", XRD_VERSION, XRD_GIT_COMMIT);
    return 0;
  }
  // Longest match first: "cbf info" before "cbf".
  for (int words = 2; words >= 1; --words) {
    if (argc < 1 + words) continue;
    std::string name = argv[1];
    for (int i = 2; i <= words; ++i) name += std::string(" ") + argv[i];
    for (auto& c : xrd::cli::commands()) {
      if (c.name != name) continue;
      std::string prog = "xrdbench " + name;
      std::vector<char*> args;
      args.push_back(prog.data());
      for (int i = 1 + words; i < argc; ++i) args.push_back(argv[i]);
      try {
        return c.run(static_cast<int>(args.size()), args.data());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "xrdbench %s: error: %s\n", name.c_str(), e.what());
        return 1;
      }
    }
  }
  std::fprintf(stderr, "xrdbench: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
