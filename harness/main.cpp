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

#include <boost/program_options/errors.hpp>

static void usage(FILE* out) {
  auto cmds = xrd::cli::commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::fprintf(out,
               "xrdbench " XRD_VERSION
               " - benchmark and profile real-time X-ray diffraction data reduction\n\n"
               "Usage: xrdbench <command> [options]   (xrdbench <command> --help for its options)\n"
               "       xrdbench --version             (version and git commit)\n\n"
               "Example: xrdbench dataset synth --out out/synth-60 --frames 60 && xrdbench table1 --dataset "
               "out/synth-60\n\nCommands:\n");
  for (auto& c : cmds) std::fprintf(out, "  %-16s %s\n", c.name.c_str(), c.summary.c_str());
}

// The subcommands of a group ("cbf" -> "cbf encode", "cbf info"); empty when `word` is not a group.
static std::vector<xrd::cli::Command> group_of(const std::string& word) {
  std::vector<xrd::cli::Command> group;
  for (auto& c : xrd::cli::commands())
    if (c.name.size() > word.size() && c.name.compare(0, word.size(), word) == 0 && c.name[word.size()] == ' ')
      group.push_back(c);
  std::sort(group.begin(), group.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return group;
}

static void group_usage(FILE* out, const std::string& word, const std::vector<xrd::cli::Command>& group) {
  std::fprintf(out, "Usage: xrdbench %s <command> [options]   (xrdbench %s <command> --help for its options)\n\n"
                    "Commands:\n", word.c_str(), word.c_str());
  for (auto& c : group) std::fprintf(out, "  %-16s %s\n", c.name.c_str(), c.summary.c_str());
  std::fprintf(out, "\nExample:\n  xrdbench %s --help\n", group.front().name.c_str());
}

int main(int argc, char** argv) {
  if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 2) {  // a usage error: the usage on stderr, exit 2 (as every subcommand)
    usage(stderr);
    return 2;
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
      } catch (const xrd::cli::UsageError& e) {
        std::fprintf(stderr, "xrdbench %s: error: %s\n\nUsage: %s\n(xrdbench %s --help for the options and an example)\n",
                     name.c_str(), e.what(), xrd::cli::current_usage().c_str(), name.c_str());
        return 2;
      } catch (const boost::program_options::error& e) {  // a subcommand that parsed without cli::parse
        std::fprintf(stderr, "xrdbench %s: error: %s\n(xrdbench %s --help for the options and an example)\n",
                     name.c_str(), e.what(), name.c_str());
        return 2;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "xrdbench %s: error: %s\n", name.c_str(), e.what());
        return 1;
      }
    }
  }
  // A group alone ("xrdbench cbf") or with --help lists its subcommands; with an unknown one, a usage error.
  if (const auto group = group_of(argv[1]); !group.empty()) {
    if (argc == 3 && (!std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h"))) {
      group_usage(stdout, argv[1], group);
      return 0;
    }
    if (argc >= 3) std::fprintf(stderr, "xrdbench %s: unknown command '%s'\n\n", argv[1], argv[2]);
    group_usage(stderr, argv[1], group);
    return 2;
  }
  std::fprintf(stderr, "xrdbench: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
