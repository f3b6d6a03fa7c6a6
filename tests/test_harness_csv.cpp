// --csv FILE on run and table1 (CsvReporter): the same bytes `xrdbench report RESULTS.json --export-csv FILE` writes
// from that results.json (reports/report.py, Python's csv module and float repr), rewritten after every row; and
// --engine NAME[:VARIANT] on run / table1 / profile: the engine asked for is the one results.json records.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/results_csv.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {

std::string q(const std::filesystem::path& p) { return test::quoted(p); }
std::string slurp(const std::filesystem::path& p) { return test::read_text(p); }

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  return json::parse(in);
}

// Why `xrdbench report` cannot run here ("" when it can): it needs /usr/bin/python3 with matplotlib.
std::string report_unavailable() {
  if (::access("/usr/bin/python3", X_OK) != 0) return "/usr/bin/python3 is missing";
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") != 0)
    return "/usr/bin/python3 has no matplotlib (python3-matplotlib)";
  return "";
}

// `xrdbench report RESULTS --export-csv` of that results.json, compared byte for byte with the CSV run wrote.
void check_same_as_report(const std::filesystem::path& results, const std::filesystem::path& csv,
                          const std::filesystem::path& work) {
  const auto exported = work / "exported.csv";
  const auto r = test::run_xrdbench("report " + q(results) + " --out " + q(work / "report") + " --export-csv " +
                                    q(exported));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string ours = slurp(csv), theirs = slurp(exported);
  REQUIRE(!ours.empty());
  CHECK(ours == theirs);
}

size_t csv_lines(const std::filesystem::path& p) {
  const std::string s = slurp(p);
  size_t n = 0;
  for (size_t at = s.find("\r\n"); at != std::string::npos; at = s.find("\r\n", at + 2)) ++n;
  return n;
}

}  // namespace

TEST_CASE("python_float_repr writes what Python's repr(float) writes") {
  using harness::python_float_repr;
  CHECK(python_float_repr(5.0) == "5.0");
  CHECK(python_float_repr(-2.5) == "-2.5");
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(1.0 / 3) == "0.3333333333333333");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(1.25e-7) == "1.25e-07");
  CHECK(python_float_repr(123456789.0) == "123456789.0");
  CHECK(python_float_repr(9999999999999998.0) == "9999999999999998.0");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(1.5e16) == "1.5e+16");
  CHECK(python_float_repr(1e22) == "1e+22");
  CHECK(python_float_repr(1.7976931348623157e308) == "1.7976931348623157e+308");
  CHECK(python_float_repr(5e-324) == "5e-324");
  CHECK(python_float_repr(0.0) == "0.0");
  CHECK(python_float_repr(-0.0) == "-0.0");
  // Random doubles of every magnitude against the interpreter itself, when there is one.
  if (::access("/usr/bin/python3", X_OK) != 0) {
    WARN("skipped the comparison with Python: /usr/bin/python3 is missing");
    return;
  }
  const auto dir = test::temp_dir("float_repr");
  std::mt19937_64 rng(11);
  std::vector<double> values;
  for (int i = 0; i < 2000; ++i) {
    const double mantissa = std::uniform_real_distribution<double>(-10, 10)(rng);
    const int exp10 = std::uniform_int_distribution<int>(-30, 30)(rng);
    values.push_back(i % 3 == 0 ? std::round(mantissa * 1000) : mantissa * std::pow(10.0, exp10));
  }
  {
    std::ofstream hex(dir / "in.txt");
    char buf[64];
    for (double v : values) {
      std::snprintf(buf, sizeof buf, "%a\n", v);
      hex << buf;
    }
  }
  const std::string cmd = "/usr/bin/python3 -c 'import sys\nfor l in open(sys.argv[1]): print(repr(float.fromhex(l)))' " +
                          q(dir / "in.txt") + " > " + q(dir / "out.txt");
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream py(dir / "out.txt");
  size_t compared = 0;
  for (double v : values) {
    std::string line;
    REQUIRE(std::getline(py, line));
    INFO(line);
    CHECK(python_float_repr(v) == line);
    ++compared;
  }
  CHECK(compared == values.size());
  std::filesystem::remove_all(dir);
}

TEST_CASE("run --csv writes report --export-csv's bytes and a second run into the folder adds its row to both") {
  const std::string why = report_unavailable();
  if (!why.empty()) {
    WARN("skipped: `xrdbench report` cannot run here: " << why);
    return;
  }
  const auto dir = test::make_tiny_dataset("csv_run", 4, 2);  // frame 2 corrupt: a failed frame, invalid reasons
  const auto out = test::temp_dir("csv_run_out");
  const auto csv = out / "rows.csv";
  auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy pool --repeats 3 --warmup 0 --device cpu "
                              "--bins 64 --no-write --quiet --out " + q(out) + " --csv " + q(csv));
  INFO(r.output);
  REQUIRE(r.status == 3);  // the failed frame makes the row invalid
  CHECK(csv_lines(csv) == 2);
  check_same_as_report(out / "results.json", csv, out);
  // A second row, the same folder: results.json keeps the first, and so does the CSV (every row of the file).
  r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy sequential --engine csc --repeats 3 --warmup 0 "
                         "--device cpu --bins 64 --no-write --quiet --out " + q(out) + " --csv " + q(csv));
  INFO(r.output);
  REQUIRE(r.status == 3);
  CHECK(read_json(out / "results.json")["rows"].size() == 2);
  CHECK(csv_lines(csv) == 3);
  CHECK_THAT(slurp(csv), Catch::Contains(",sequential-cpu-MEM-csc,sequential,"));
  check_same_as_report(out / "results.json", csv, out);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(out);
}

TEST_CASE("table1 --csv: the CSV is rewritten after every row so that Ctrl-C keeps the finished rows in it") {
  const std::string why = report_unavailable();
  if (!why.empty()) {
    WARN("skipped: `xrdbench report` cannot run here: " << why);
    return;
  }
  const auto dir = test::make_tiny_dataset("csv_table1", 3);
  const auto out = test::temp_dir("csv_table1_out");
  const auto csv = out / "rows.csv";
  const pid_t pid = test::spawn_xrdbench({"table1", "--dataset", dir.string(), "--out", out.string(), "--device",
                                           "cpu", "--bins", "50", "--no-write", "--quiet", "--repeats", "400", "--csv",
                                           csv.string(), "--rows", "sequential-cpu-MEM,fused-cpu-MEM,pipeline-cpu-MEM"});
  // The header and the first row in the CSV: the first row is finished (the third takes far longer).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (csv_lines(csv) < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(csv_lines(csv) >= 2);
  CHECK(test::interrupt_and_wait(pid) == 130);
  const json j = read_json(out / "results.json");
  REQUIRE(j["rows"].size() >= 1);
  CHECK(csv_lines(csv) == j["rows"].size() + 1);
  CHECK_THAT(slurp(csv), Catch::Contains(",sequential-cpu-MEM,sequential,"));
  check_same_as_report(out / "results.json", csv, out);  // the paper's figures included
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(out);
}

TEST_CASE("the --engine option of run / table1 / profile: results.json records the engine asked for and bad names exit 2") {
  const auto dir = test::make_tiny_dataset("engine_opt", 3);
  const auto out = test::temp_dir("engine_opt_out");
  const std::string common = " --dataset " + q(dir) + " --repeats 1 --warmup 0 --device cpu --bins 64 --no-write "
                             "--quiet --out ";
  struct Case {
    std::string engine, strategy, id, recorded, variant;  // variant: "" = any
  };
  for (const Case& c : {Case{"csc", "sequential", "sequential-cpu-MEM-csc", "csc", ""},
                        Case{"reference", "pool", "pool-2-cpu-MEM-reference", "reference", ""},
                        Case{"csr-parallel", "pipeline", "pipeline-cpu-MEM-csr-parallel", "csr-parallel", ""},
                        Case{"fast:scalar", "fused", "fused-cpu-MEM-fast-scalar", "fast", "scalar"}}) {
    INFO(c.engine << " " << c.strategy);
    const auto o = out / (c.strategy + "-" + c.engine.substr(0, c.engine.find(':')));
    const auto r = test::run_xrdbench("run --strategy " + c.strategy + " --engine " + c.engine + common + q(o));
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json row = read_json(o / "results.json")["rows"][0];
    CHECK(row["id"] == c.id);
    CHECK(row["engine"] == c.recorded);
    if (!c.variant.empty()) CHECK(row["engine_variant"] == c.variant);
    CHECK(row["valid"] == true);
  }
  // profile: the same option, recorded the same way.
  auto r = test::run_xrdbench("profile --strategy sequential --engine csc" + common + q(out / "profile"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(read_json(out / "profile" / "results.json")["rows"][0]["engine"] == "csc");
  // table1: the CPU-integrated rows take it; the GPU rows keep opencl.
  r = test::run_xrdbench("table1 --rows sequential-cpu-MEM,pipeline-cpu-MEM --engine csc" + common + q(out / "t1"));
  REQUIRE(r.status == 0);
  const json t1 = read_json(out / "t1" / "results.json");  // kept: a range-for over a temporary's member dangles
  REQUIRE(t1["rows"].size() == 2);
  for (const auto& row : t1["rows"]) CHECK(row["engine"] == "csc");
  // Unknown names and variants, and engines a row cannot use: usage errors (exit 2) that list what is valid.
  struct Bad {
    std::string args, says;
  };
  for (const Bad& b :
       {Bad{"run --strategy sequential --engine nope", "unknown engine 'nope' (known: reference, csr-parallel, fast, csc, opencl)"},
        Bad{"run --strategy sequential --engine fast:turbo", "valid: fast:auto, fast:gather, fast:scalar"},
        Bad{"profile --strategy sequential --engine nope", "known: reference, csr-parallel, fast, csc, opencl"},
        Bad{"table1 --engine csc:x", "engine csc has no variant 'x'"},
        Bad{"table1 --engine opencl", "table1's GPU rows integrate with opencl already"},
        Bad{"run --strategy opencl-batched --engine fast", "decodes and integrates on its OpenCL device"},
        Bad{"run --strategy pool --integrator gpu --engine csc", "give --integrator cpu"},
        Bad{"run --strategy pool --engine opencl", "give --integrator gpu"}}) {
    INFO(b.args);
    r = test::run_xrdbench(b.args + common + q(out / "bad"));
    CHECK(r.status == 2);
    CHECK_THAT(r.output, Catch::Contains(b.says) && Catch::Contains("Usage: xrdbench"));
    CHECK_FALSE(std::filesystem::exists(out / "bad" / "results.json"));
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(out);
}

TEST_CASE("results_csv of the stored results files equals report.py's write_csv of them") {
  // The measured files of the repository (H100, H200, MPI and realtime rows: paper figures, load averages, noise
  // warnings, reasons with commas), rendered here and by reports/report.py's write_csv, compared byte for byte.
  const std::string why = report_unavailable();
  if (!why.empty()) {
    WARN("skipped: reports/report.py cannot run here: " << why);
    return;
  }
  const auto repo = std::filesystem::path(XRD_TEST_DATA_DIR).parent_path().parent_path();
  const auto work = test::temp_dir("csv_stored");
  size_t compared = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo / "reports" / "results")) {
    if (e.path().filename() != "results.json") continue;
    INFO(e.path());
    const auto theirs = work / "theirs.csv";
    const std::string cmd = "cd " + q(repo / "reports") + " && MPLBACKEND=Agg /usr/bin/python3 -c 'import sys, report, "
                            "xrdresults; report.write_csv(xrdresults.load_all([sys.argv[1]]), sys.argv[2])' " +
                            q(e.path()) + " " + q(theirs);
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(e.path());
    const std::string ours = harness::results_csv(json::parse(in), e.path().string());
    CHECK(ours == slurp(theirs));
    ++compared;
  }
  CHECK(compared >= 1);
  std::filesystem::remove_all(work);
}
