// Progress: draws and erases its line when active, writes nothing when the stream is not a terminal.
#include <catch2/catch.hpp>

#include <chrono>
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
  CHECK_THAT(out, Catch::Contains("\r[4/12 rows] elapsed 0:00 ETA") && Catch::Contains(" pool-2-gpu-MEM, run 2/5") &&
                      Catch::Contains("frame_0007.cbf: bad stream\n"));
  // The last thing written erases the line and returns the cursor.
  REQUIRE(out.size() > 2);
  CHECK(out.back() == '\r');
  CHECK(out[out.size() - 2] == ' ');
  std::fclose(f);
}

TEST_CASE("fraction done and ETA cover the whole table", "[harness][progress]") {
  FILE* f = std::tmpfile();
  REQUIRE(f);
  {  // Progress clears its line on destruction: it must go before the stream is closed
    Progress p(4, f, true);
    CHECK(p.fraction_done() == 0.0);
    CHECK_THAT(p.line(), Catch::Contains("ETA --:--"));  // nothing done yet: no estimate
    // Row 2 of 4 (0-based: 2 done), pass 3 of 6 (warm-up + 5 runs), half of its frames.
    p.start_row(2, "fused-cpu-MEM, run 2/5", 100, 2, 6);
    p.add_frames(50);
    CHECK(p.fraction_done() == Approx((2 + 2.5 / 6) / 4));
    p.start_row(3, "last", 10, 5, 6);
    p.add_frames(10);
    CHECK(p.fraction_done() == Approx(1.0));
    p.add_frames(1000);  // never beyond 1 (frames over the announced total)
    CHECK(p.fraction_done() == Approx(1.0));
    CHECK(Progress::format_duration(0) == "0:00");
    CHECK(Progress::format_duration(65.4) == "1:05");
    CHECK(Progress::format_duration(7387) == "2:03:07");
    CHECK(Progress::format_duration(-1) == "?");
  }
  std::fclose(f);
}

TEST_CASE("ETA appears once there is progress to scale", "[harness][progress]") {
  FILE* f = std::tmpfile();
  REQUIRE(f);
  {  // Progress clears its line on destruction: it must go before the stream is closed
    Progress p(2, f, true);
    p.start_row(1, "row b", 10, 0, 1);  // one of two rows done: half the table
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const std::string line = p.line();
    // >= 1.1 s for half the table: an estimate (about as long again), no longer "--:--"
    CHECK_THAT(line, Catch::Contains("[1/2 rows] elapsed 0:") && Catch::Contains(" ETA 0:") &&
                         !Catch::Contains("--:--"));
  }
  std::fclose(f);
}

TEST_CASE("notes go above the status line, never into it", "[harness][progress]") {
  FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p(3, f, true);
    p.start_row(0, "sequential-cpu-MEM, run 1/5", 10);
    p.note("sequential-cpu-MEM             312.0 fps (MAD 1.0)  valid");
  }
  const std::string out = contents(f);
  // The status line is erased ("\r" + blanks + "\r") before the note, and the note ends its own line.
  const auto note = out.find("sequential-cpu-MEM             312.0 fps");
  REQUIRE(note != std::string::npos);
  REQUIRE(note > 0);
  CHECK(out[note - 1] == '\r');
  CHECK(out.find("valid\n", note) != std::string::npos);
  const auto before = out.substr(0, note);
  const auto last_status = before.rfind("[0/3 rows]");
  REQUIRE(last_status != std::string::npos);
  CHECK(before.find('\r', last_status) != std::string::npos);  // the line was returned to its start and blanked
  std::fclose(f);
}
