// `xrdbench realtime` end to end: results.json read back (schema checked) with its realtime block, --detector
// setting the rate, the detector x strategy matrix, and bad input refused with clear errors.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness/results.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

}  // namespace

TEST_CASE("realtime CLI: a keeping-up run writes a validated realtime block") {
  const auto ds = test::make_tiny_dataset("rt_cli_keep", 4);
  const auto out = ds / "out";
  auto r = test::run_xrdbench("realtime --dataset " + ds.string() +
                              " --strategy test-sleep-10ms --rate 50 --frames 25 --buffer-frames 100 --out " +
                              out.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("KEEPS UP"));
  const harness::ResultsFile f = harness::read_results(out / "results.json");  // the schema check passes
  REQUIRE(f.realtime.is_object());
  CHECK(f.realtime["schema"] == "xrdbench-realtime/1");
  REQUIRE(f.realtime["runs"].size() == 1);
  const json& run = f.realtime["runs"][0];
  CHECK(run["strategy"] == "test-sleep-10ms");
  CHECK(run["rate_hz"] == 50.0);
  CHECK(run["frames"] == 25);
  CHECK(run["buffer_frames"] == 100);
  CHECK(run["reduced"] == 25);
  CHECK(run["dropped"] == 0);
  CHECK(run["verdict"]["keeps_up"] == true);
  CHECK(run["validated"] == true);
  CHECK(run["latencies_ms"].size() == 25);
  CHECK(run["latency_ms"]["p50"].get<double>() >= 9.9);
  CHECK(run["latency_ms"]["p99"].get<double>() <= run["latency_ms"]["max"].get<double>());
  CHECK(run["backlog"]["series"].size() > 10);
  CHECK(run["find_max"].is_null());
  CHECK(run["detector"].is_null());
  CHECK(f.realtime["matrix"].empty());

  // `xrdbench report` draws the run: its figure is a PNG and report.md shows the verdict and the latencies.
  auto rep = test::run_xrdbench("report " + (out / "results.json").string() + " --out " + (out / "report").string());
  INFO(rep.output);
  REQUIRE(rep.status == 0);
  const auto png = test::read_bytes(out / "report" / "realtime_1.png");
  REQUIRE(png.size() > 1000);
  CHECK(std::string(png.begin() + 1, png.begin() + 4) == "PNG");
  std::ifstream md_in(out / "report" / "report.md");
  const std::string md((std::istreambuf_iterator<char>(md_in)), std::istreambuf_iterator<char>());
  CHECK_THAT(md, Catch::Contains("Real time: paced detector streams") && Catch::Contains("keeps up (headroom") &&
                     Catch::Contains("realtime_1.png") && Catch::Contains("| test-sleep-10ms-cpu-MEM | - | 50 | 25 / 0 |"));
  std::filesystem::remove_all(ds);
}

TEST_CASE("realtime CLI: --detector sets the rate; --detectors x --strategies writes the matrix") {
  const auto root = test::temp_dir("rt_cli_matrix");
  const auto tiny = test::make_tiny_dataset("rt_cli_matrix_src", 3);
  for (const char* d : {"pilatus3-2m", "eiger2-4m"}) std::filesystem::copy(tiny, root / d);
  const auto out = root / "out";
  auto r = test::run_xrdbench("realtime --dataset '" + (root / "{detector}").string() +
                              "' --detectors pilatus3-2m,eiger2-4m --strategies sequential,test-sleep-10ms "
                              "--duration 0.2 --out " + out.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json j = read_json(out / "results.json");
  const json& m = j["realtime"]["matrix"];
  REQUIRE(m.size() == 4);
  for (auto& e : m) {
    INFO(e.dump());
    const double nominal = e["detector"] == "pilatus3-2m" ? 250.0 : 560.0;
    CHECK(e["nominal_hz"] == nominal);
    CHECK(e["rate_hz"] == nominal);
    CHECK(e["validated"] == true);
    CHECK(e["max_rate_hz"].is_null());  // no --find-max
    // 10 ms a frame cannot follow 250 or 560 frames/s; a tiny frame's sequential reduction can.
    CHECK(e["keeps_up_at_nominal"] == (e["strategy"] == "sequential"));
  }
  REQUIRE(j["realtime"]["runs"].size() == 4);
  CHECK(j["realtime"]["runs"][0]["frames"] == 50);  // 0.2 s at 250 Hz
  CHECK(j["realtime"]["runs"][2]["detector"] == "eiger2-4m");
  CHECK(j["realtime"]["runs"][2]["frames"] == 112);  // 0.2 s at 560 Hz

  // The report's procurement matrix: one line per detector and strategy.
  auto rep = test::run_xrdbench("report " + (out / "results.json").string() + " --out " + (out / "report").string());
  INFO(rep.output);
  REQUIRE(rep.status == 0);
  CHECK(test::read_bytes(out / "report" / "realtime_matrix.png").size() > 1000);
  std::ifstream md_in(out / "report" / "report.md");
  const std::string md((std::istreambuf_iterator<char>(md_in)), std::istreambuf_iterator<char>());
  CHECK_THAT(md, Catch::Contains("Procurement matrix") && Catch::Contains("| eiger2-4m | 560 | test-sleep-10ms | NO |") &&
                     Catch::Contains("| pilatus3-2m | 250 | sequential | yes |"));
  std::filesystem::remove_all(root);
  std::filesystem::remove_all(tiny);
}

TEST_CASE("realtime CLI: --find-max reports the bracket and the ratio to the batch fps") {
  const auto ds = test::make_tiny_dataset("rt_cli_fm", 3);
  const auto out = ds / "out";
  auto r = test::run_xrdbench("realtime --dataset " + ds.string() +
                              " --strategy test-sleep-10ms --rate 50 --frames 20 --find-max --trial-s 1 --out " +
                              out.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("max sustainable rate"));
  const json fm = read_json(out / "results.json")["realtime"]["runs"][0]["find_max"];
  REQUIRE(fm.is_object());
  const double max = fm["max_rate_hz"], lo = fm["bracket_hz"][0], hi = fm["bracket_hz"][1];
  CHECK(max == lo);
  CHECK(hi > lo);
  CHECK(max > 80);
  CHECK(max < 120);
  CHECK(fm["ratio_to_batch"].get<double>() == Approx(max / fm["batch_fps"].get<double>()));
  CHECK(fm["trials"].size() >= 3);
  std::filesystem::remove_all(ds);
}

TEST_CASE("realtime CLI: bad input is refused with a clear error") {
  const auto ds = test::make_tiny_dataset("rt_cli_bad", 2);
  const std::string base = "realtime --dataset " + ds.string() + " --out " + (ds / "o").string();
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {" --rate 0", "--rate: must be a frame rate > 0 frames/s"},
      {" --rate=-5", "must be a frame rate > 0"},
      {"", "give a frame rate (--rate HZ) or a --detector"},
      {" --rate 10 --buffer-gb 1e-9", "smaller than one frame"},
      {" --rate 10 --buffer-gb 0", "--buffer-gb: must be > 0"},
      {" --detector pilatus9", "unknown detector 'pilatus9' (known: pilatus3-2m"},
      {" --rate 10 --strategy nosuch", "unknown strategy 'nosuch'"},
      {" --rate 10 --max-latency 0", "--max-latency"},
  };
  for (auto& c : cases) {
    auto r = test::run_xrdbench(base + c.args);
    INFO(c.args << "\n" << r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains(c.expect));
    CHECK_FALSE(std::filesystem::exists(ds / "o" / "results.json"));
  }
  std::filesystem::remove_all(ds);
}
