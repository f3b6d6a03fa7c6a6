// `xrdbench report`: figures, report.md and report.html from results files, by running reports/report.py with
// /usr/bin/python3. Also holds run_report_script(), which `xrdbench compare` (cmd_compare.cpp) uses too.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <boost/program_options.hpp>

#include "harness/cli.hpp"
#include "base/data_paths.hpp"

namespace fs = std::filesystem;

namespace xrd::reports {

namespace {

// Debian's python3 has python3-matplotlib and python3-numpy (scripts/setup.sh installs them). XRDBENCH_PYTHON
// overrides it (an unusual system, or a test of the missing-interpreter message).
std::string python_path() {
  const char* env = std::getenv("XRDBENCH_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

// Where the scripts are: $XRDBENCH_REPORTS_DIR alone when set; an installed xrdbench's
// <prefix>/share/xrdbench/reports alone (never the source tree it was built from); else <exe dir>/../reports (the
// device bundle: bin/xrdbench beside reports/), then the source tree this binary was built from.
std::vector<fs::path> candidate_dirs() {
  if (const char* env = std::getenv("XRDBENCH_REPORTS_DIR"); env && *env) return {fs::path(env)};
  if (const fs::path data = paths::installed_data_dir(); !data.empty()) return {data / "reports"};
  std::vector<fs::path> dirs;
  if (fs::path d = paths::exe_dir(); !d.empty()) dirs.push_back(d.parent_path() / "reports");
  dirs.push_back(fs::path(XRD_SOURCE_DIR) / "reports");
  return dirs;
}

}  // namespace

// Replaces this process with `python3 <reports dir>/<script> ARGS...`, so the script's exit status is xrdbench's.
// Returns 2 (after a message naming what is missing) only when that cannot happen.
int run_report_script(const char* command, const char* script, const std::vector<std::string>& script_args) {
  fs::path found;
  std::string looked;
  for (const fs::path& dir : candidate_dirs()) {
    std::error_code ec;
    if (fs::is_regular_file(dir / script, ec)) {
      found = dir / script;
      break;
    }
    looked += "\n  " + (dir / script).string();
  }
  if (found.empty()) {
    std::fprintf(stderr,
                 "xrdbench %s: error: cannot find the script %s; looked for:%s\n"
                 "Set XRDBENCH_REPORTS_DIR to the reports/ folder of the xrdbench sources.\n",
                 command, script, looked.c_str());
    return 2;
  }
  const std::string python = python_path();
  if (::access(python.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "xrdbench %s: error: %s is needed to run %s but is missing or not executable (%s).\n"
                 "Install it (Debian: apt-get install python3 python3-matplotlib python3-numpy), or run "
                 "bash scripts/setup.sh.\n",
                 command, python.c_str(), found.c_str(), std::strerror(errno));
    return 2;
  }
  std::vector<std::string> args = {python, found.string()};
  args.insert(args.end(), script_args.begin(), script_args.end());
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(python.c_str(), cargs.data());
  std::fprintf(stderr, "xrdbench %s: error: cannot run %s: %s\n", command, python.c_str(), std::strerror(errno));
  return 2;
}

}  // namespace xrd::reports

namespace {

// Parsed here as every subcommand is (cli::parse: --help with an example, usage errors exit 2), then handed to
// reports/report.py with the same options.
int cmd_report(int argc, char** argv) {
  namespace po = boost::program_options;
  std::vector<std::string> results;
  std::string out, paper, export_csv;
  const xrd::cli::Help help{
      "xrdbench report RESULTS.json... --out DIR [--paper CSV] [--export-csv FILE]",
      "Figures, report.md and a self-contained report.html from results.json files (one per machine; the first\n"
      "is shown in most detail), opening with a 10-second summary (machine, dataset, best row and its headroom\n"
      "over 250 frames/s, trust warnings). Runs reports/report.py with /usr/bin/python3 (XRDBENCH_PYTHON).\n"
      "Exit status: 0 written; 1 a results file cannot be read; 2 a usage error or no Python/scripts.",
      {"xrdbench report out/table1/results.json --out out/report",
       "xrdbench report h200.json laptop.json --out out/machines --export-csv out/machines/rows.csv"}};
  po::options_description desc("Options");
  desc.add_options()("out", po::value(&out)->required()->value_name("DIR"), "output folder (created)")(
      "paper", po::value(&paper)->value_name("CSV"),
      "the paper's Table 1, used for rows whose results lack a 'paper' object (default: $XRD_PAPER_TABLE, else "
      "data/paper/table1.csv)")(
      "export-csv", po::value(&export_csv)->value_name("FILE"),
      "also write every row of every file as CSV, one line per row (fps median/MAD/runs, validity and reasons, "
      "noise warnings, load averages, stage times, the paper's figures)");
  po::options_description hidden;
  hidden.add_options()("results", po::value(&results), "results files");
  po::positional_options_description pos;
  pos.add("results", -1);
  po::variables_map vm;
  if (!xrd::cli::parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (results.empty()) xrd::cli::usage_error("no RESULTS.json given");
  std::vector<std::string> args = results;
  args.insert(args.end(), {"--out", out});
  if (!paper.empty()) args.insert(args.end(), {"--paper", paper});
  if (!export_csv.empty()) args.insert(args.end(), {"--export-csv", export_csv});
  return xrd::reports::run_report_script("report", "report.py", args);
}

xrd::cli::CommandRegistrar reg("report",
                               "figures, report.md and self-contained report.html from results.json files",
                               cmd_report);

}  // namespace
