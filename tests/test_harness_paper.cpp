// The paper's Table 1: 12 rows with results.json ids and the published values; clear errors for bad tables.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/paper.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd::harness;

TEST_CASE("the paper's Table 1 has 12 rows with the published values", "[harness][paper]") {
  ::unsetenv("XRD_PAPER_TABLE");
  const auto rows = load_paper_table1();  // the copy compiled in from data/paper/table1.csv: no shared/ needed
  CHECK(paper_table_source() == "data/paper/table1.csv (compiled in)");
  REQUIRE(rows.size() == 12);
  std::vector<std::string> ids;
  for (auto& r : rows) ids.push_back(r.id);
  CHECK(ids == std::vector<std::string>{"sequential-cpu-SSD", "sequential-gpu-SSD", "sequential-cpu-MEM",
                                        "sequential-gpu-MEM", "pool-1-gpu-MEM", "pool-2-gpu-MEM", "pool-3-gpu-MEM",
                                        "pool-4-gpu-MEM", "pool-6-gpu-MEM", "pool-12-gpu-MEM", "pool-24-gpu-MEM",
                                        "opencl-gpu-MEM"});
  const PaperRow* p2 = find_paper_row(rows, "pool-2-gpu-MEM");
  REQUIRE(p2);
  CHECK(p2->median_fps == 192);
  CHECK(p2->mad_fps == 7);
  CHECK(p2->readers == 2);
  CHECK(p2->strategy == "pool");
  CHECK(p2->integrator == "gpu");
  CHECK(p2->source == "MEM");
  const PaperRow* s = find_paper_row(rows, "sequential-cpu-SSD");
  REQUIRE(s);
  CHECK(s->median_fps == 28.2);
  CHECK(s->mad_fps == 0.3);
  CHECK_FALSE(s->readers);
  CHECK(find_paper_row(rows, "sequential-gpu-MEM")->median_fps == 74.6);
  CHECK(find_paper_row(rows, "pool-6-gpu-MEM")->mad_fps == 18);
  CHECK(find_paper_row(rows, "opencl-gpu-MEM")->median_fps == 253);
  CHECK(find_paper_row(rows, "opencl-gpu-MEM")->mad_fps == 2);
  CHECK(find_paper_row(rows, "tbb-fused-cpu-MEM") == nullptr);
  for (auto& r : rows) CHECK(!r.label.empty());
}

TEST_CASE("the repository's copy of the table is the shared one", "[harness][paper]") {
  const auto shared = xrd::test::shared_dir() / "paper" / "table1.csv";
  if (!fs::exists(shared)) {
    WARN("SKIP: no shared/paper/table1.csv to compare with");
    return;
  }
  std::ifstream a(shared), b(fs::path(XRD_TEST_DATA_DIR) / ".." / ".." / "data" / "paper" / "table1.csv");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  CHECK(sa.str() == sb.str());
  CHECK(load_paper_table1(shared).size() == load_paper_table1().size());
}

TEST_CASE("XRD_PAPER_TABLE in the environment picks another table", "[harness][paper]") {
  const auto dir = xrd::test::temp_dir("paper_env");
  std::ofstream(dir / "t.csv") << "# a comment\nstrategy,readers,integrator,source,median_fps,mad_fps\n"
                                  "Pool,8,GPU,MEM,300,5\r\n";
  ::setenv("XRD_PAPER_TABLE", (dir / "t.csv").c_str(), 1);
  CHECK(paper_table_source() == (dir / "t.csv").string());
  const auto rows = load_paper_table1();
  ::unsetenv("XRD_PAPER_TABLE");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].id == "pool-8-gpu-MEM");
  CHECK(rows[0].median_fps == 300);
  fs::remove_all(dir);
}

TEST_CASE("a missing or malformed table is a clear error", "[harness][paper]") {
  const auto dir = xrd::test::temp_dir("paper_bad");
  CHECK_THROWS_WITH(load_paper_table1(dir / "nope.csv"), Catch::Contains("nope.csv") && Catch::Contains("cannot read"));

  const auto bad = dir / "bad.csv";
  std::ofstream(bad) << "strategy,readers,integrator,source,median_fps,mad_fps\nPool,2,GPU,MEM,fast,7\n";
  CHECK_THROWS_WITH(load_paper_table1(bad), Catch::Contains("bad.csv") && Catch::Contains("line 2") &&
                                                 Catch::Contains("'fast' is not a number"));
  std::ofstream(bad) << "strategy,readers,integrator,source,median_fps,mad_fps\nPool,2,GPU,MEM,192\n";
  CHECK_THROWS_WITH(load_paper_table1(bad), Catch::Contains("expected 6"));
  std::ofstream(bad) << "strategy,readers,integrator,source,median_fps,mad_fps\nPool,2,TPU,MEM,1,1\n";
  CHECK_THROWS_WITH(load_paper_table1(bad), Catch::Contains("TPU"));
  std::ofstream(bad) << "name,fps\nx,1\n";
  CHECK_THROWS_WITH(load_paper_table1(bad), Catch::Contains("expected the header"));
  fs::remove_all(dir);
}
