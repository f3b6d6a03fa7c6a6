// Ctrl-C during `xrdbench table1`: the process stops soon, exits 130, and results.json / table1.md keep the rows
// that were finished (complete, with every run) and say the run was interrupted.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {
size_t rows_written(const std::filesystem::path& results) {
  std::ifstream in(results);
  if (!in) return 0;
  try {
    return json::parse(in)["rows"].size();
  } catch (const std::exception&) {
    return 0;  // being replaced: written to a temporary file, then renamed, so this is rare
  }
}
}  // namespace

TEST_CASE("Ctrl-C keeps the finished rows of table1 and marks the file interrupted") {
  const auto dir = test::make_tiny_dataset("table1_int", 3);
  const auto out = test::temp_dir("table1_int_out");
  const std::string repeats = "400";
  const pid_t pid = test::spawn_xrdbench({"table1", "--dataset", dir.string(), "--out", out.string(), "--device",
                                           "cpu", "--bins", "50", "--no-write", "--quiet", "--repeats", repeats,
                                           "--rows", "sequential-cpu-MEM,fused-cpu-MEM,pipeline-cpu-MEM"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (rows_written(out / "results.json") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(test::interrupt_and_wait(pid) == 130);

  std::ifstream in(out / "results.json");
  const json j = json::parse(in);
  CHECK(j["interrupted"] == true);
  REQUIRE(j["rows"].size() >= 1);
  CHECK(j["rows"].size() < 3);
  for (auto& row : j["rows"]) {
    CHECK(row["fps"]["runs"].size() == std::stoul(repeats));
    CHECK(row["valid"] == true);
  }
  std::stringstream md;
  md << std::ifstream(out / "table1.md").rdbuf();
  CHECK_THAT(md.str(), Catch::Contains("Interrupted"));
}
