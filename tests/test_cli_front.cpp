// One command-line front (harness/cli.hpp): every subcommand takes --help (exit 0, on stdout, with an example) and
// refuses an unknown option the same way (exit 2, the error and the usage on stderr, nothing on stdout); a group
// alone ("xrdbench cbf") lists its subcommands.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/test_support.hpp"

namespace {

struct Split {
  int status;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs xrdbench with stdout and stderr captured apart.
Split run_split(const std::string& args) {
  const auto dir = xrd::test::temp_dir("cli_front");
  const auto out = dir / "out", err = dir / "err";
  const std::string cmd = std::string("\"") + XRDBENCH_EXE + "\" " + args + " >\"" + out.string() + "\" 2>\"" +
                          err.string() + "\" </dev/null";
  const int st = std::system(cmd.c_str());
  Split s{WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
  std::filesystem::remove_all(dir);
  return s;
}

// Runs of white space as one space: Program_options wraps the option descriptions.
std::string flat(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n';
    if (space && !out.empty() && out.back() == ' ') continue;
    out += space ? ' ' : c;
  }
  return out;
}

// The subcommands `xrdbench --help` lists ("  name  summary" lines after "Commands:").
std::vector<std::string> listed_commands() {
  const Split top = run_split("--help");
  std::vector<std::string> names;
  const auto at = top.out.find("\nCommands:\n");
  REQUIRE(at != std::string::npos);
  std::istringstream in(top.out.substr(at + 11));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  ", 0) != 0) break;
    const auto end = line.find("  ", 2);
    std::string name = line.substr(2, end - 2);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    names.push_back(name);
  }
  return names;
}

}  // namespace

TEST_CASE("every subcommand: --help exits 0 with an example; --bogus exits 2 with the usage on stderr") {
  const auto names = listed_commands();
  // Every subcommand there is, two-word ones included.
  for (const char* expected : {"cache", "cbf encode", "cbf info", "compare", "dataset synth", "dataset verify",
                               "devices", "integrate", "profile", "realtime", "report", "run", "strategies", "table1"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  for (const auto& name : names) {
    INFO(name);
    const Split help = run_split(name + " --help");
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("Usage: xrdbench " + name.substr(0, name.find(' '))));
    CHECK_THAT(help.out, Catch::Contains("Example"));
    CHECK_THAT(help.out, Catch::Contains("--help"));
    const Split bogus = run_split(name + " --bogus");
    CHECK(bogus.status == 2);
    CHECK(bogus.out.empty());
    CHECK_THAT(bogus.err, Catch::Contains("xrdbench " + name + ": error: ") && Catch::Contains("--bogus"));
    CHECK_THAT(bogus.err, Catch::Contains("Usage: xrdbench " + name.substr(0, name.find(' '))));
  }
}

TEST_CASE("a group alone lists its subcommands; an unknown one is a usage error") {
  for (const std::string group : {"cbf", "dataset"}) {
    INFO(group);
    const Split alone = run_split(group);
    CHECK(alone.status == 2);
    CHECK_THAT(alone.err, Catch::Contains("Usage: xrdbench " + group + " <command>"));
    CHECK_THAT(alone.err, !Catch::Contains("unknown command"));
    const Split help = run_split(group + " --help");
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("Example"));
    if (group == "cbf") {
      CHECK_THAT(alone.err, Catch::Contains("cbf info") && Catch::Contains("cbf encode"));
    } else {
      CHECK_THAT(alone.err, Catch::Contains("dataset synth") && Catch::Contains("dataset verify"));
    }
    const Split unknown = run_split(group + " frobnicate");
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  }
  const Split none = run_split("");
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Catch::Contains("Commands:"));
}

TEST_CASE("the same option means the same everywhere: --device and --no-md5") {
  // One --device text (auto by default) on every subcommand that takes it; one --no-md5 text.
  for (const char* name : {"run", "table1", "profile", "realtime", "cbf info", "integrate"}) {
    INFO(name);
    const std::string help = flat(run_split(std::string(name) + " --help").out);
    CHECK_THAT(help, Catch::Contains("--device D (=auto)"));
    CHECK_THAT(help, Catch::Contains("auto (an OpenCL device when the work needs one, else none)"));
  }
  for (const char* name : {"profile", "cbf info", "dataset verify"}) {
    INFO(name);
    CHECK_THAT(flat(run_split(std::string(name) + " --help").out),
               Catch::Contains("do not verify MD5 sums: a wrong one fails nothing"));
  }
}

TEST_CASE("usage errors after parsing: a missing required option or a value out of range exit 2") {
  Split r = run_split("run --strategy sequential");  // no --dataset
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("dataset") && Catch::Contains("Usage: xrdbench run"));
  r = run_split("table1 --dataset /nonexistent --repeats 0");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--repeats: must be at least 1"));
  r = run_split("compare a.json");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("expected BASELINE.json and CURRENT.json"));
  r = run_split("compare a.json b.json --normalize nope");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--normalize must be none, scalar-decode or memcpy"));
  r = run_split("report a.json");  // no --out
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--out"));
}
