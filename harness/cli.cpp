#include "harness/cli.hpp"

#include <iostream>
#include <sstream>

namespace po = boost::program_options;

namespace xrd::cli {

std::vector<Command>& commands() {
  static std::vector<Command> registry;
  return registry;
}

namespace {
std::string& usage_slot() {
  static std::string usage;
  return usage;
}
}  // namespace

void usage_error(const std::string& why) { throw UsageError(why); }

const std::string& current_usage() { return usage_slot(); }

std::string help_text(const Help& help, const po::options_description& visible) {
  std::ostringstream o;
  o << "Usage: " << help.usage << "\n";
  if (!help.description.empty()) o << "\n" << help.description << "\n";
  po::options_description with_help(visible);  // a copy: the caller's stays as it is
  with_help.add_options()("help,h", "this help");
  o << "\n" << with_help;
  o << "\n" << (help.examples.size() > 1 ? "Examples:\n" : "Example:\n");
  for (const auto& e : help.examples) o << "  " << e << "\n";
  return o.str();
}

bool parse(int argc, char** argv, const Help& help, const po::options_description& visible, po::variables_map& vm,
           const po::options_description& hidden, const po::positional_options_description& positional) {
  usage_slot() = help.usage;
  po::options_description all;
  all.add(visible).add(hidden);
  all.add_options()("help,h", "this help");
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << help_text(help, visible);
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

void add_device_option(po::options_description& d, std::string& device, const std::string& extra) {
  d.add_options()("device", po::value(&device)->default_value("auto")->value_name("D"),
                  ("OpenCL device: auto (an OpenCL device when the work needs one, else none), cpu (none), opencl "
                   "(the first GPU, else the first OpenCL device), opencl:PLATFORM[:DEVICE] (`xrdbench devices` "
                   "lists them)" +
                   (extra.empty() ? std::string() : "; " + extra))
                      .c_str());
}

std::string resolve_device(const std::string& device, bool needs_device) {
  if (device == "auto") return needs_device ? "opencl" : "cpu";
  return device;
}

void add_no_md5_option(po::options_description& d, bool& no_md5, const std::string& extra) {
  d.add_options()("no-md5", po::bool_switch(&no_md5),
                  ("do not verify MD5 sums: a wrong one fails nothing" +
                   (extra.empty() ? std::string() : " (" + extra + ")"))
                      .c_str());
}

}  // namespace xrd::cli
