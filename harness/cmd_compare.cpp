// `xrdbench compare BASELINE.json CURRENT.json`: per-row change and significance, exit 1 on a regression, 2 on
// input that cannot be compared; runs reports/compare.py (the statistics live there, beside the reports).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "harness/cli.hpp"

namespace xrd::reports {
// Defined in cmd_report.cpp: execs /usr/bin/python3 <reports dir>/<script> with argv[1..].
int run_report_script(const char* command, const char* script, const std::vector<std::string>& script_args);
}  // namespace xrd::reports

namespace {

// Parsed here as every subcommand is (cli::parse: --help with an example, usage errors exit 2), then handed to
// reports/compare.py with the same options.
int cmd_compare(int argc, char** argv) {
  namespace po = boost::program_options;
  std::vector<std::string> files;
  double threshold = 5, alpha = 0.05, mad_k = 3;
  std::string normalize = "none", rows, json;
  const xrd::cli::Help help{
      "xrdbench compare BASELINE.json CURRENT.json [--threshold PCT] [--normalize scalar-decode|memcpy] [options]",
      "Compares two results.json files row by row: the change in time per frame (+ = slower) and its significance\n"
      "(two-sided Mann-Whitney U test on the runs when both sides have enough runs for p < alpha to be possible,\n"
      "4+ each at alpha 0.05; else median shift > MAD_K x the larger MAD). Runs reports/compare.py with\n"
      "/usr/bin/python3 (XRDBENCH_PYTHON); docs/regression.md.\n"
      "Exit status: 0 no regression; 1 a row got slower beyond both the threshold and the runs' spread; 2 a usage\n"
      "error, or files that cannot be compared.",
      {"xrdbench compare reports/baselines/ci_baseline.json out/ci/results.json --threshold 10"}};
  po::options_description desc("Options");
  desc.add_options()("threshold", po::value(&threshold)->default_value(5)->value_name("PCT"),
                     "slow-down in % of time per frame that counts as a regression")(
      "alpha", po::value(&alpha)->default_value(0.05), "significance level of the U test (between 0 and 1)")(
      "mad-k", po::value(&mad_k)->default_value(3)->value_name("K"),
      "with too few runs for the U test: significant when |median shift| > K x MAD")(
      "normalize", po::value(&normalize)->default_value("none"),
      "compare machine-independent figures: none, scalar-decode (fps x scalar_decode_ms/1000) or memcpy (fps / "
      "memcpy_GBps), from each file's machine.calibration")(
      "rows", po::value(&rows)->value_name("ID,ID,..."), "compare only these row ids")(
      "json", po::value(&json)->value_name("FILE"), "also write the comparison as JSON");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&files), "results files");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  if (!xrd::cli::parse(argc, argv, help, desc, vm, hidden, pos)) return 0;
  if (files.size() != 2)
    xrd::cli::usage_error("expected BASELINE.json and CURRENT.json, got " + std::to_string(files.size()) + " file(s)");
  if (!(threshold >= 0) || !std::isfinite(threshold)) xrd::cli::usage_error("--threshold must be a percentage >= 0");
  if (!(alpha > 0 && alpha < 1)) xrd::cli::usage_error("--alpha must be between 0 and 1");
  if (!(mad_k > 0)) xrd::cli::usage_error("--mad-k must be > 0");
  if (normalize != "none" && normalize != "scalar-decode" && normalize != "memcpy")
    xrd::cli::usage_error("--normalize must be none, scalar-decode or memcpy, not '" + normalize + "'");
  auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);  // exact: the script reads the value parsed here
    return std::string(text);
  };
  std::vector<std::string> args = {files[0], files[1], "--threshold", number(threshold), "--alpha",
                                   number(alpha), "--mad-k", number(mad_k)};
  args.insert(args.end(), {"--normalize", normalize});
  if (!rows.empty()) args.insert(args.end(), {"--rows", rows});
  if (!json.empty()) args.insert(args.end(), {"--json", json});
  return xrd::reports::run_report_script("compare", "compare.py", args);
}

xrd::cli::CommandRegistrar reg("compare",
                               "compare two results.json files row by row; exit 1 on a significant slow-down",
                               cmd_compare);

}  // namespace
