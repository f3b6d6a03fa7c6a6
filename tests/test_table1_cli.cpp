// `xrdbench table1` on a tiny dataset: every row (the paper's 12 + ours) in results.json and table1.md, the paper's
// values beside ours; --rows selects rows; the markdown marks invalid rows and says why.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/cache.hpp"
#include "harness/paper.hpp"
#include "harness/table1.hpp"
#include "kernels/ocl_device.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {
// The path quoted for the shell (built step by step: GCC 12 warns falsely on "'" + s + "'").
std::string q(const std::filesystem::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("table1 runs every row and writes results.json and table1.md") {
  const auto dir = test::make_tiny_dataset("table1_all", 3);
  const auto out = test::temp_dir("table1_all_out");
  // On the device when there is one (PoCL in CI), else the GPU rows say why they could not run.
  const std::string device = ocl::list_devices().empty() ? "cpu" : "opencl";
  auto r = test::run_xrdbench("table1 --dataset " + q(dir) + " --repeats 1 --warmup 0 --bins 100 --quiet --out " +
                              q(out) + " --device " + device);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(out / "results.json"));
  const auto paper = harness::load_paper_table1();
  const auto rows = harness::table1_rows(paper);
  REQUIRE(j["rows"].size() == rows.size());
  REQUIRE(rows.size() >= 16);
  const std::string md = slurp(out / "table1.md");
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = j["rows"][i];
    const std::string id = row["id"];
    INFO(id);
    CHECK(id == harness::row_id_of(rows[i].spec));
    CHECK_THAT(md, Catch::Contains("`" + id + "`"));
    if (i < paper.size()) {
      CHECK(id == paper[i].id);
      CHECK(row["paper"]["median_fps"].get<double>() == paper[i].median_fps);
    } else {
      CHECK(row["paper"].is_null());
    }
    if (row["integrator"] == "cpu" && (row["source"] == "MEM" || harness::eviction_possible(dir)))
      CHECK(row["valid"] == true);
    if (row["integrator"] == "gpu" && device == "opencl") CHECK(row["validated"] == true);
  }
  // The cold device row: its fixed id, its readers.
  const json& cold_gpu = j["rows"].back();
  CHECK(cold_gpu["id"] == "opencl-batched-gpu-SSD");
  CHECK(cold_gpu["readers"] == strategies::kColdDeviceReaders);
  CHECK(cold_gpu["source"] == "SSD");
  CHECK_THAT(md, Catch::Contains("| Row | Strategy"));
  CHECK_THAT(md, Catch::Contains("Paper fps"));
  CHECK_THAT(r.output, Catch::Contains("sequential-cpu-SSD"));  // the table is printed too
}

TEST_CASE("table1 --rows runs only the rows asked, and refuses unknown ones") {
  const auto dir = test::make_tiny_dataset("table1_rows", 2);
  const auto out = test::temp_dir("table1_rows_out");
  auto r = test::run_xrdbench("table1 --dataset " + q(dir) + " --repeats 1 --warmup 0 --bins 100 --quiet --out " +
                              q(out) + " --device cpu --rows sequential-cpu-MEM,fused-cpu-MEM");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(out / "results.json"));
  REQUIRE(j["rows"].size() == 2);
  CHECK(j["rows"][0]["id"] == "sequential-cpu-MEM");
  CHECK(j["rows"][1]["id"] == "fused-cpu-MEM");
  r = test::run_xrdbench("table1 --dataset " + q(dir) + " --out " + q(out) + " --rows nope-row");
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Contains("unknown row 'nope-row'"));
}

TEST_CASE("table1_markdown puts the paper beside ours and lists why a row is invalid") {
  harness::ResultsFile f;
  f.dataset.frames = 10;
  f.dataset.width = 1475;
  f.dataset.height = 1679;
  harness::ResultRow a;
  a.id = "pool-2-gpu-MEM";
  a.label = "Pool of 2 readers, GPU, MEM (hot)";
  a.integrator = "gpu";
  a.device = "pthread-cpu";
  a.device_is_cpu_opencl = true;
  a.fps = harness::summarize_fps({380, 384, 390});
  a.valid = true;
  a.paper = harness::PaperValue{192, 7};
  harness::ResultRow b = a;
  b.id = "sequential-cpu-SSD";
  b.source = "SSD";
  b.integrator = "cpu";
  b.valid = false;
  b.invalid_reasons = {"cold row had 35% of the dataset resident before a run (limit 1%)"};
  b.paper = harness::PaperValue{28.2, 0.3};
  f.rows = {a, b};
  f.interrupted = true;
  const std::string md = harness::table1_markdown(f);
  CHECK_THAT(md, Catch::Contains("| `pool-2-gpu-MEM` |"));
  CHECK_THAT(md, Catch::Contains("**384**"));
  CHECK_THAT(md, Catch::Contains("192"));
  CHECK_THAT(md, Catch::Contains("2.00x"));
  CHECK_THAT(md, Catch::Contains("**NO**"));
  CHECK_THAT(md, Catch::Contains("cold row had 35%"));
  CHECK_THAT(md, Catch::Contains("OpenCL CPU device"));
  CHECK_THAT(md, Catch::Contains("Interrupted"));
}
