// `xrdbench compare BASELINE.json CURRENT.json`: per-row change and significance, exit 1 on a regression, 2 on
// input that cannot be compared; runs reports/compare.py (the statistics live there, beside the reports).
#include "harness/cli.hpp"

namespace xrd::reports {
// Defined in cmd_report.cpp: execs /usr/bin/python3 <reports dir>/<script> with argv[1..].
int run_report_script(const char* command, const char* script, int argc, char** argv);
}  // namespace xrd::reports

namespace {

int cmd_compare(int argc, char** argv) {
  return xrd::reports::run_report_script("compare", "compare.py", argc, argv);
}

xrd::cli::CommandRegistrar reg("compare",
                               "compare two results.json files row by row; exit 1 on a significant slow-down",
                               cmd_compare);

}  // namespace
