// `xrdbench cache status|warm|evict`: the user's tool reports the resident fraction before and after.
#include <catch2/catch.hpp>

#include <fstream>

#include "harness/cache.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;

TEST_CASE("xrdbench cache warm/evict/status on a folder of CBF files", "[harness][cache][cli]") {
  auto dir = fs::current_path() / ("xrdbench_test_cmd_cache_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<char> buf(1 << 20, 'x');
  for (int k = 0; k < 3; ++k)
    std::ofstream(dir / ("frame_" + std::to_string(k) + ".cbf"), std::ios::binary).write(buf.data(), buf.size());
  std::ofstream(dir / "notes.txt") << "not a frame\n";

  auto r = xrd::test::run_xrdbench("cache warm '" + dir.string() + "'");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("3 files") && Catch::Contains("after") && Catch::Contains("100.00% resident"));

  if (xrd::harness::eviction_possible(dir)) {
    r = xrd::test::run_xrdbench("cache evict '" + dir.string() + "'");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("before") && Catch::Contains("after") && Catch::Contains(" 0.00% resident (0 of 768 pages)"));
    r = xrd::test::run_xrdbench("cache status --per-file '" + dir.string() + "'");
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("now") && Catch::Contains(" 0.00% resident (0 of 768 pages)") && Catch::Contains("frame_2.cbf"));
  } else {
    WARN("eviction part skipped: " << dir << " is on " << xrd::harness::filesystem_type(dir));
  }

  r = xrd::test::run_xrdbench("cache status --all '" + dir.string() + "'");
  CHECK_THAT(r.output, Catch::Contains("4 files"));

  r = xrd::test::run_xrdbench("cache status '" + (dir / "missing.cbf").string() + "'");
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("missing.cbf") && Catch::Contains("no such file"));
  r = xrd::test::run_xrdbench("cache explode '" + dir.string() + "'");
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("unknown action 'explode'"));
  r = xrd::test::run_xrdbench("cache --help");
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("status|warm|evict"));
  fs::remove_all(dir);
}
