// Chrome trace: the written file is valid JSON with one "X" event per stage event (µs), thread names, frames.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness/trace.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using namespace xrd::harness;
using nlohmann::json;

TEST_CASE("trace file is valid JSON with the expected events", "[harness][trace]") {
  StageProfiler p;
  p.record_events(16);
  p.set_thread_name(0, "main");
  p.set_thread_name(1, "reader 1");
  p.add(Stage::read, 0.001, 0.003, 0, 1);
  p.add(Stage::decode, 0.003, 0.004, 0, 1);
  p.add(Stage::integrate, 0.004, 0.0065, 0, 0);
  p.add(Stage::write, 0.0065, 0.007, 0, 0);
  p.add(Stage::read, 0.003, 0.005, 1, 2);  // a thread without a name

  const auto dir = xrd::test::temp_dir("trace");
  const auto path = dir / "trace.json";
  const auto events = p.events();
  write_chrome_trace(path, events, p.thread_names());

  std::ifstream in(path);
  const json j = json::parse(in);  // throws (fails the test) on invalid JSON
  REQUIRE(j.contains("traceEvents"));
  std::vector<json> x, names;
  for (auto& e : j["traceEvents"]) {
    if (e["ph"] == "X") x.push_back(e);
    if (e["ph"] == "M" && e["name"] == "thread_name") names.push_back(e);
  }
  REQUIRE(x.size() == 5);
  CHECK(x[0]["name"] == "read");
  CHECK(x[0]["ts"].get<double>() == Approx(1000.0));
  CHECK(x[0]["dur"].get<double>() == Approx(2000.0));
  CHECK(x[0]["tid"] == 1);
  CHECK(x[0]["pid"] == 1);
  CHECK(x[0]["args"]["frame"] == 0);
  CHECK(x[2]["name"] == "integrate");
  CHECK(x[2]["dur"].get<double>() == Approx(2500.0));
  CHECK(x[4]["args"]["frame"] == 1);
  REQUIRE(names.size() == 3);
  std::map<int, std::string> got;
  for (auto& n : names) got[n["tid"].get<int>()] = n["args"]["name"].get<std::string>();
  CHECK(got.at(0) == "main");
  CHECK(got.at(1) == "reader 1");
  CHECK(got.at(2) == "thread 2");
  std::filesystem::remove_all(dir);
}

TEST_CASE("trace write errors name the file", "[harness][trace]") {
  CHECK_THROWS_WITH(write_chrome_trace("/no/such/folder/trace.json", {}, {}), Catch::Contains("/no/such/folder/trace.json"));
}
