// Several invocations, one output folder: merge_results keeps every earlier row and adds (or replaces, by id) the new
// ones, merge_conflict names the setting that differs, FolderLock refuses a second holder with the first one's pid,
// and a failed write or rename gives the real reason (errno), not "Success". Files are written and read back.
#include <catch2/catch.hpp>

#include <fstream>

#include <unistd.h>

#include "harness/results.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd::harness;

namespace {

ResultRow row(const std::string& strategy, double fps) {
  ResultRow r;
  r.strategy = strategy;
  r.id = row_id(strategy, std::nullopt, "cpu", "MEM");
  r.label = r.id;
  r.fps = summarize_fps({fps});
  r.wall_s = {1.0, {1.0}};
  r.frames = 4;
  r.residency_runs = {1.0};
  r.residency_before = 1.0;
  r.validated = r.valid = true;
  r.max_rel_diff = 0.0;
  return r;
}

ResultsFile file(const std::string& command, std::vector<ResultRow> rows) {
  ResultsFile f;
  f.created = "2026-12-01T00:00:00Z";
  f.command = command;
  f.machine = nlohmann::json::object();
  f.dataset.path = "/data/scan";
  f.dataset.frames = 4;
  f.dataset.width = 173;
  f.dataset.height = 131;
  f.settings.bins = 100;
  f.rows = std::move(rows);
  return f;
}

}  // namespace

TEST_CASE("merge_results keeps earlier rows, appends new ones and replaces a row of the same id in place") {
  const auto earlier = file("xrdbench run --strategy sequential", {row("sequential", 10), row("fused", 20)});
  const auto now = file("xrdbench run --strategy pipeline", {row("sequential", 11), row("pipeline", 30)});
  REQUIRE(merge_conflict(earlier, now).empty());
  std::vector<std::string> replaced;
  const ResultsFile m = merge_results(earlier, now, &replaced);
  REQUIRE(m.rows.size() == 3);
  CHECK(m.rows[0].id == "sequential-cpu-MEM");
  CHECK(m.rows[0].fps.median == 11);  // the newer measurement, in the earlier row's place
  CHECK(m.rows[1].id == "fused-cpu-MEM");
  CHECK(m.rows[2].id == "pipeline-cpu-MEM");
  CHECK(replaced == std::vector<std::string>{"sequential-cpu-MEM"});
  CHECK(m.command == now.command);
  REQUIRE(m.previous_runs.size() == 1);
  CHECK(m.previous_runs[0].command == earlier.command);

  // Written and read back: the rows and the previous runs survive the file.
  const auto dir = xrd::test::temp_dir("fault_merge");
  write_results(dir / "results.json", m);
  const ResultsFile back = read_results(dir / "results.json");
  REQUIRE(back.rows.size() == 3);
  CHECK(back.rows[1].fps.median == 20);
  REQUIRE(back.previous_runs.size() == 1);
  CHECK(back.previous_runs[0].command == earlier.command);
  CHECK(back.previous_runs[0].created == earlier.created);
  // A third invocation: the history grows, oldest first.
  const ResultsFile m3 = merge_results(back, file("xrdbench table1", {row("pool", 5)}), nullptr);
  REQUIRE(m3.previous_runs.size() == 2);
  CHECK(m3.previous_runs[1].command == "xrdbench run --strategy pipeline");
  CHECK(m3.rows.size() == 4);
}

TEST_CASE("merge_conflict names what differs") {
  const auto a = file("a", {});
  auto b = file("b", {});
  b.settings.bins = 500;
  CHECK(merge_conflict(a, b) == "settings.bins: 100 in the file, 500 now");
  b = file("b", {});
  b.dataset.path = "/other";
  CHECK_THAT(merge_conflict(a, b), Catch::Contains("dataset.path: /data/scan in the file, /other now"));
  b = file("b", {});
  b.settings.verify_md5 = true;
  CHECK_THAT(merge_conflict(a, b), Catch::Contains("verify_md5: false in the file, true now"));
  b = file("b", {});
  b.settings.device = "opencl";  // per row: not a conflict
  b.settings.drop_caches = true;
  CHECK(merge_conflict(a, b).empty());
}

TEST_CASE("FolderLock: one holder at a time, the refusal names the holder's pid; released on destruction") {
  const auto dir = xrd::test::temp_dir("fault_lock");
  {
    FolderLock first = FolderLock::acquire(dir);
    try {
      FolderLock second = FolderLock::acquire(dir);
      FAIL("a second lock was granted");
    } catch (const xrd::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("another xrdbench (pid " + std::to_string(::getpid()) + ")"));
      CHECK_THAT(e.what(), Catch::Contains("--out"));
    }
    FolderLock moved = std::move(first);  // still held after a move
    CHECK_THROWS_AS(FolderLock::acquire(dir), xrd::Error);
  }
  CHECK_NOTHROW(FolderLock::acquire(dir));
}

TEST_CASE("write_results reports the real errno of a failed rename and leaves no temporary file") {
  const auto dir = xrd::test::temp_dir("fault_rename");
  fs::create_directories(dir / "results.json" / "inside");  // rename onto a non-empty folder fails
  try {
    write_results(dir / "results.json", file("x", {row("sequential", 1)}));
    FAIL("the rename onto a folder succeeded");
  } catch (const xrd::Error& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("rename"));
    CHECK((what.find("Is a directory") != std::string::npos || what.find("Directory not empty") != std::string::npos));
    CHECK(what.find("Success") == std::string::npos);
  }
  for (auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "results.json");
}
