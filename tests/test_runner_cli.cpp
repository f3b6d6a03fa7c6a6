// `xrdbench run` end to end on a tiny dataset: results.json follows the schema, residency is checked (a cold row
// that was not evicted is invalid), failed frames are counted and named, a GPU row without a device says why,
// validation compares with the reference; the Runner stops on the Ctrl-C flag.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness/cache.hpp"
#include "harness/runner.hpp"
#include "kernels/ocl_device.hpp"
#include "strategies/engines.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  return json::parse(in);
}

// The path quoted for the shell (built step by step: GCC 12 warns falsely on "'" + s + "'").
std::string q(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

}  // namespace

TEST_CASE("run writes a results.json with every schema key, patterns in HDF5 and a trace") {
  const auto dir = test::make_tiny_dataset("run_schema", 4);
  const auto out = test::temp_dir("run_schema_out");
  auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy pool --readers 2 --repeats 2 --warmup 1 --out " +
                              q(out) + " --device cpu --bins 100 --quiet --trace " + q(out / "trace.json"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json j = read_json(out / "results.json");
  CHECK(j["schema"] == "xrdbench-results/1");
  for (const char* k : {"created", "command", "machine", "dataset", "settings", "rows", "interrupted"})
    CHECK(j.contains(k));
  for (const char* k : {"path", "frames", "bytes", "width", "height", "manifest"}) CHECK(j["dataset"].contains(k));
  CHECK(j["dataset"]["frames"] == 4);
  CHECK(j["dataset"]["width"] == test::kTinyW);
  for (const char* k : {"repeats", "warmup", "bins", "unit", "split", "verify_md5", "write", "device", "drop_caches"})
    CHECK(j["settings"].contains(k));
  REQUIRE(j["rows"].size() == 1);
  const json& row = j["rows"][0];
  for (const char* k : {"id", "strategy", "label", "readers", "integrator", "device", "device_is_cpu_opencl", "source",
                        "fps", "wall_s", "frames", "failed_frames", "errors", "residency_before", "residency_runs",
                        "validated", "max_rel_diff", "valid", "invalid_reasons", "stages_ms", "paper"})
    CHECK(row.contains(k));
  CHECK(row["id"] == "pool-2-cpu-MEM");
  // The kernels it ran: the fast decoder of this CPU, the fast engine and the loop it chose (read back below too).
  CHECK(row["decoder"] == frames::decoder_name(frames::Codec::byte_offset));
  CHECK(row["engine"] == "fast");
  CHECK((row["engine_variant"] == "avx2-gather" || row["engine_variant"] == "scalar"));
  CHECK(row["readers"] == 2);
  CHECK(row["fps"]["runs"].size() == 2);
  CHECK(row["fps"]["median"].get<double>() > 0);
  CHECK(row["wall_s"]["runs"].size() == 2);
  CHECK(row["residency_runs"].size() == 2);
  CHECK(row["residency_before"].get<double>() >= 0.99);
  CHECK(row["validated"] == true);
  CHECK(row["valid"] == true);
  CHECK(row["max_rel_diff"].get<double>() <= 1e-5);
  for (const char* k : {"read", "md5", "decode", "integrate", "write", "wait"}) CHECK(row["stages_ms"].contains(k));
  CHECK(row["stages_ms"]["decode"].get<double>() > 0);
  CHECK(std::filesystem::file_size(out / "patterns" / "pool-2-cpu-MEM.h5") > 0);
  // What the HDF5 sink cost (it wrote: 4 patterns per run, the file created and written on its own thread).
  REQUIRE(row.contains("sink"));
  CHECK(row["sink"]["create_ms"].get<double>() > 0);
  CHECK(row["sink"]["writer_ms"].get<double>() > 0);
  CHECK(row["sink"]["close_ms"].get<double>() > 0);
  CHECK(row["sink"]["waited_ms"].get<double>() >= 0);
  CHECK(row["sink"]["drain_ms"].get<double>() >= 0);
  CHECK(row["sink"]["max_queued"].get<int>() >= 1);
  CHECK(row["sink"]["max_queued"].get<int>() <= 4);
  const json t = read_json(out / "trace.json");
  CHECK(t["traceEvents"].size() > 4 * 4);
  const auto back = harness::read_results(out / "results.json");
  REQUIRE(back.rows.size() == 1);
  CHECK(back.rows[0].decoder == row["decoder"].get<std::string>());
  CHECK(back.rows[0].engine == "fast");
  CHECK(back.rows[0].engine_variant == row["engine_variant"].get<std::string>());
  CHECK(back.rows[0].sink == row["sink"]);
  // --no-write: no sink block.
  r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy sequential --repeats 1 --warmup 0 --no-write --out " +
                         q(out / "nw") + " --device cpu --bins 100 --quiet");
  REQUIRE(r.status == 0);
  CHECK_FALSE(read_json(out / "nw" / "results.json")["rows"][0].contains("sink"));
}

TEST_CASE("a cold row that was not evicted is marked invalid; an evicted one is valid") {
  const auto dir = test::make_tiny_dataset("run_cold", 3);
  const auto out = test::temp_dir("run_cold_out");
  auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy sequential --cache cold --skip-eviction "
                              "--repeats 1 --out " + q(out) + " --device cpu --no-write --quiet");
  INFO(r.output);
  CHECK(r.status == 3);
  json row = read_json(out / "results.json")["rows"][0];
  CHECK(row["id"] == "sequential-cpu-SSD");
  CHECK(row["valid"] == false);
  CHECK(row["validated"] == true);
  CHECK(row["residency_before"].get<double>() > 0.01);
  CHECK_THAT(row["invalid_reasons"][0].get<std::string>(), Catch::Contains("cold row had"));

  if (!harness::eviction_possible(dir)) {
    WARN("the temporary folder is on " << harness::filesystem_type(dir) << ": eviction cannot be checked here");
    return;
  }
  // Another folder: results.json of the first run has other settings (--repeats 1), and would refuse this one.
  r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy sequential --cache cold --repeats 2 --out " +
                         q(out / "evicted") + " --device cpu --no-write --quiet");
  INFO(r.output);
  CHECK(r.status == 0);
  row = read_json(out / "evicted" / "results.json")["rows"][0];
  CHECK(row["valid"] == true);
  CHECK(row["residency_before"].get<double>() <= 0.01);
}

TEST_CASE("failed frames are counted and named, the row goes on and is invalid") {
  const auto dir = test::make_tiny_dataset("run_failed", 5, /*corrupt=*/3);
  const auto out = test::temp_dir("run_failed_out");
  auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy fused --repeats 1 --out " + q(out) +
                              " --device cpu --quiet");
  INFO(r.output);
  CHECK(r.status == 3);
  const json row = read_json(out / "results.json")["rows"][0];
  CHECK(row["failed_frames"] == 1);
  REQUIRE(row["errors"].size() == 1);
  CHECK_THAT(row["errors"][0]["file"].get<std::string>(), Catch::Contains("frame_00003.cbf"));
  CHECK(!row["errors"][0]["reason"].get<std::string>().empty());
  CHECK(row["validated"] == true);  // the 4 good frames match the reference
  CHECK(row["valid"] == false);
}

TEST_CASE("a GPU row without a device says why; bad options are refused clearly") {
  const auto dir = test::make_tiny_dataset("run_nodev", 2);
  const auto out = test::temp_dir("run_nodev_out");
  auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy sequential --integrator gpu --repeats 1 --out " +
                              q(out) + " --device cpu --quiet");
  CHECK(r.status == 3);
  const json row = read_json(out / "results.json")["rows"][0];
  CHECK(row["id"] == "sequential-gpu-MEM");
  CHECK_THAT(row["invalid_reasons"][0].get<std::string>(), Catch::Contains("needs an OpenCL device"));

  r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy nope --out " + q(out));
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("unknown strategy 'nope'"));
  r = test::run_xrdbench("run --dataset " + q(out) + " --out " + q(out / "x"));
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("geometry"));
  r = test::run_xrdbench("run --strategy sequential");
  CHECK(r.status == 2);  // a usage error: --dataset is required
  CHECK_THAT(r.output, Catch::Contains("dataset"));
  r = test::run_xrdbench("run --help");
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("--cache"));
}

TEST_CASE("run: opencl-batched's default readers are every core but two hot, kColdDeviceReaders cold") {
  const auto dir = test::make_tiny_dataset("run_cold_readers", 2);
  const auto out = test::temp_dir("run_cold_readers_out");
  // On the device when there is one (PoCL in CI), else the row says why it could not run (and is not validated).
  const bool have_device = !ocl::list_devices().empty();
  const std::string device = have_device ? "opencl" : "cpu";
  for (const char* cache : {"cold", "hot"}) {
    INFO(cache);
    auto r = test::run_xrdbench("run --dataset " + q(dir) + " --strategy opencl-batched --cache " + cache +
                                " --repeats 1 --warmup 0 --no-write --device " + device + " --bins 50 --quiet --out " +
                                q(out / cache));
    INFO(r.output);
    REQUIRE((r.status == 0 || r.status == 3));  // 3: a cold row that could not be evicted here
    const json row = read_json(out / cache / "results.json")["rows"][0];
    const int want = std::string(cache) == "cold" ? strategies::kColdDeviceReaders : strategies::default_readers();
    CHECK(row["readers"] == want);
    CHECK(row["id"] == "opencl-batched-" + std::to_string(want) + "-gpu-" + (std::string(cache) == "cold" ? "SSD" : "MEM"));
    if (have_device) CHECK(row["validated"] == true);
  }
}

TEST_CASE("xrdbench strategies lists every strategy") {
  auto r = test::run_xrdbench("strategies");
  CHECK(r.status == 0);
  for (auto& s : strategies::strategies()) CHECK_THAT(r.output, Catch::Contains(s.name));
  for (auto& e : strategies::engines()) CHECK_THAT(r.output, Catch::Contains("\n" + e.name + " "));  // and engines
}

TEST_CASE("the Runner stops on the Ctrl-C flag and keeps nothing of the row") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("run_stop", 3));
  std::atomic<bool> stop{false};
  harness::RunnerOptions o;
  o.repeats = 1;
  o.write = false;
  o.quiet = true;
  harness::Runner runner(ds, o, nullptr, &stop, nullptr);
  harness::RowSpec spec;
  spec.strategy = "pipeline";
  const auto row = runner.run_row(spec);
  CHECK(row.valid);
  stop = true;
  CHECK_THROWS_AS(runner.run_row(spec), harness::Interrupted);
}

TEST_CASE("a row whose patterns differ from the reference is not validated, and says where") {
  auto ds = test::load_tiny(test::make_tiny_dataset("run_wrong", 3));
  harness::RunnerOptions o;
  o.repeats = 1;
  o.warmup = 0;
  o.write = false;
  o.quiet = true;
  harness::Runner runner(ds, o, nullptr, nullptr, nullptr);
  runner.reference();  // computed with the right corrections
  for (auto& n : ds.setup.norm) n *= 1.001f;  // every strategy prepared from now on computes something else
  harness::RowSpec spec;
  spec.strategy = "fused";
  const auto row = runner.run_row(spec);
  CHECK(!row.validated);
  CHECK(!row.valid);
  CHECK(row.max_rel_diff.value() > 5e-4);
  REQUIRE(!row.invalid_reasons.empty());
  CHECK_THAT(row.invalid_reasons[0], Catch::Contains("differs from the reference"));
  CHECK_THAT(row.invalid_reasons[0], Catch::Contains("(reference)"));
}
