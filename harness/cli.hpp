// The xrdbench command-line front. Each harness/cmd_*.cpp registers one or more subcommands with a static
// CommandRegistrar; main.cpp dispatches on the first one or two words ("cbf info", "table1"). Every subcommand parses
// its options through cli::parse() (Boost.Program_options), so that all of them behave alike:
//   --help / -h   prints "Usage: ...", the description, the options and at least one example on stdout; exit 0;
//   a usage error (an unknown option, a missing or malformed value, a required option missing, a value out of its
//                 range) throws UsageError: main.cpp prints "xrdbench CMD: error: WHY", the usage line and where the
//                 help is, on stderr; exit 2;
//   other errors (bad input files, the system) are xrd::Error / std::exception: the message on stderr, exit 1 (or the
//                 command's own documented status).
// Options that several subcommands take mean the same everywhere (add_device_option, add_no_md5_option).
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

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

// A usage error: exit status 2 with the usage on stderr (main.cpp).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void usage_error(const std::string& why);

// What --help prints about a subcommand.
struct Help {
  std::string usage;                  // after "Usage: ": "xrdbench run --dataset DIR [options]" (lines: '\n')
  std::string description;            // paragraphs, lines of at most ~118 columns
  std::vector<std::string> examples;  // at least one full command line
};

// The full --help text: Usage, description, the visible options (+ -h), Example(s).
std::string help_text(const Help& help, const boost::program_options::options_description& visible);
// The usage line(s) of the subcommand parse() last saw ("" before), for main.cpp's usage-error message.
const std::string& current_usage();

// Parses argv[1..] into `vm` (and the variables the options are bound to). --help / -h: prints help_text() on stdout
// and returns false (the command then returns 0). Any Program_options error, a required option included: throws
// UsageError. `hidden`: accepted, not listed; `positional`: names of the positional arguments.
bool parse(int argc, char** argv, const Help& help, const boost::program_options::options_description& visible,
           boost::program_options::variables_map& vm,
           const boost::program_options::options_description& hidden = boost::program_options::options_description(),
           const boost::program_options::positional_options_description& positional =
               boost::program_options::positional_options_description());

// --device D, the same on every subcommand that can use an OpenCL device: `cpu` (no OpenCL device), `opencl`
// (the first GPU, else the first OpenCL device), opencl:PLATFORM[:DEVICE], or `auto` (the default everywhere): an
// OpenCL device when the work asked for needs one (a GPU row of run/table1/profile/realtime, integrate --engine
// opencl), the CPU otherwise (cbf info, integrate). `extra`: what this subcommand adds to the description.
void add_device_option(boost::program_options::options_description& d, std::string& device, const std::string& extra);
// `auto` resolved: "opencl" when `needs_device`, else "cpu"; any other value as given.
std::string resolve_device(const std::string& device, bool needs_device);
// --no-md5, the same on every subcommand that checks MD5 sums: the sums are not verified, so a wrong one fails
// nothing. `extra`: what this subcommand adds.
void add_no_md5_option(boost::program_options::options_description& d, bool& no_md5, const std::string& extra);

}  // namespace xrd::cli
