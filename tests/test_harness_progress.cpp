// Progress: draws and erases its line when active, writes nothing when the stream is not a terminal.
#include <catch2/catch.hpp>

#include <cstdio>
#include <thread>

#include "harness/progress.hpp"

using namespace xrd::harness;

namespace {
std::string contents(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}
}  // namespace

TEST_CASE("inactive when the stream is not a terminal", "[harness][progress]") {
  FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p(3, f);
    CHECK_FALSE(p.active());
    p.start_row(0, "sequential-cpu-MEM", 10);
    p.add_frames(5);
    p.note("a message");
  }
  CHECK(contents(f).empty());
  std::fclose(f);
}

TEST_CASE("active: status line, notes above it, cleared at the end", "[harness][progress]") {
  FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p(12, f, true);
    REQUIRE(p.active());
    p.start_row(4, "pool-2-gpu-MEM, run 2/5", 60);
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; ++t)
      ts.emplace_back([&p] {
        for (int i = 0; i < 10; ++i) p.add_frames();
      });
    for (auto& t : ts) t.join();
    const std::string line = p.line();
    CHECK_THAT(line, Catch::Contains("[4/12 rows]") && Catch::Contains("pool-2-gpu-MEM, run 2/5") &&
                         Catch::Contains("frames 30/60") && Catch::Contains("fps"));
    p.note("frame_0007.cbf: bad stream");
  }
  const std::string out = contents(f);
  CHECK_THAT(out, Catch::Contains("\r[4/12 rows] pool-2-gpu-MEM") && Catch::Contains("frame_0007.cbf: bad stream\n"));
  // The last thing written erases the line and returns the cursor.
  REQUIRE(out.size() > 2);
  CHECK(out.back() == '\r');
  CHECK(out[out.size() - 2] == ' ');
  std::fclose(f);
}
