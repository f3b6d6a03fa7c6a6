#include "harness/cli.hpp"

namespace xrd::cli {
std::vector<Command>& commands() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace xrd::cli
