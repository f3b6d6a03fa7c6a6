// The xrdbench subcommand registry: each harness/cmd_*.cpp registers one or more subcommands with a
// static CommandRegistrar; main.cpp dispatches on the first one or two words ("cbf info", "table1").
#pragma once
#include <string>
#include <vector>

namespace xrd::cli {

// argv[0] is "xrdbench <name>"; the rest are the subcommand's own arguments. Returns the exit status.
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string name;     // "cbf info", "dataset synth", "integrate", ...
  std::string summary;  // one line for `xrdbench --help`
  CommandFn run;
};

std::vector<Command>& commands();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, CommandFn fn) {
    commands().push_back(Command{std::move(name), std::move(summary), fn});
  }
};

}  // namespace xrd::cli
