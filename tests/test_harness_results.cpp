// results.json: round trip through write/read, every key of docs/results-schema.md present, and refusal (with a
// clear message) of files with another schema, missing keys, wrong types or duplicate row ids.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "harness/h2d_bound.hpp"
#include "harness/results.hpp"
#include "harness/runner.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd::harness;
using nlohmann::json;

namespace {

ResultRow sample_row(const std::string& strategy, std::optional<int> readers, const std::string& source) {
  ResultRow r;
  r.strategy = strategy;
  r.readers = readers;
  r.integrator = "gpu";
  r.source = source;
  r.id = row_id(strategy, readers, r.integrator, source);
  r.label = "sample " + r.id;
  r.device = "Portable Computing Language pthread";
  r.device_is_cpu_opencl = true;
  r.fps = summarize_fps({188.0, 190.2, 193.1, 191.0, 187.5});
  r.wall_s = {6.3, {6.4, 6.3, 6.2, 6.3, 6.4}};
  r.frames = 1202;
  r.failed_frames = 1;
  r.errors = {{"frame_0007.cbf", "byte 1234: stream ended inside a 16-bit escape"}};
  r.residency_before = 0.995;
  r.residency_runs = {1.0, 0.995, 1.0, 1.0, 1.0};
  r.validated = true;
  r.max_rel_diff = 3.2e-7;
  r.valid = false;
  r.invalid_reasons = {"1 frame failed"};
  r.stages_ms = {{"read", 0.4}, {"md5", 0.0}, {"decode", 2.1}, {"integrate", 1.3}, {"write", 0.05}, {"wait", 0.2}};
  r.paper = PaperValue{190, 4};
  return r;
}

ResultsFile sample_file() {
  ResultsFile f;
  f.command = "xrdbench table1 --dataset 'out/my synth'";
  f.machine = {{"hostname", "h"}, {"cpu_model", "cpu"}, {"cores", 2}};
  f.dataset = {"/data/synth", 1202, 3000000000ull, 1475, 1679, json{{"frames", 1202}, {"seed", 1}}};
  f.settings.repeats = 5;
  f.settings.device = "opencl:0:0";
  f.rows.push_back(sample_row("pool", 4, "MEM"));
  // A row that wrote its sinogram: the sink's figures (harness/runner.cpp builds them from H5File::Stats).
  f.rows.back().sink = {{"create_ms", 1.2},  {"waited_ms", 0.0}, {"writer_ms", 9.5},
                        {"drain_ms", 0.4},   {"close_ms", 0.5},  {"max_queued", 48}};
  auto r2 = sample_row("tbb-fused", std::nullopt, "SSD");
  r2.integrator = "cpu";
  r2.id = row_id("tbb-fused", std::nullopt, "cpu", "SSD");
  r2.max_rel_diff.reset();
  r2.paper.reset();
  r2.errors.clear();
  f.rows.push_back(r2);
  // A row run by mpirun: the mpi object as harness/mpi_row.cpp builds it (its figures are checked end to end by
  // tests/mpi/test_mpi.py); here it must be written and read back unchanged.
  auto r3 = sample_row("fused", std::nullopt, "MEM");
  r3.id = "fused-cpu-MEM-mpi2";
  r3.paper.reset();
  json rank = {{"rank", 0}, {"host", "h"}, {"cpus", "0"}, {"threads", 1}, {"device", "cpu"}, {"device_id", "cpu"},
               {"first_frame", 0}, {"frames", 601}, {"failed_frames", 0}, {"errors", json::array()},
               {"fps", {{"median", 400.0}, {"mad", 2.0}, {"runs", {398.0, 400.0, 402.0}}}},
               {"wall_s", {{"median", 1.5}, {"runs", {1.49, 1.5, 1.51}}}}, {"residency_before", 1.0},
               {"stages_ms", {{"read", 0.3}, {"integrate", 2.2}}}};
  json rank1 = rank;
  rank1["rank"] = 1;
  rank1["first_frame"] = 601;
  r3.mpi = {{"ranks", 2}, {"hosts", 1}, {"distribution", "contiguous"}, {"gather_write_s", 0.02},
            {"per_rank", {rank, rank1}}};
  f.rows.push_back(r3);
  ReadBoundSweep rb;
  rb.sweep = {{1, 2.0, 800, 310, 0.0}, {2, 1.2, 1330, 520, 0.0}};
  rb.best = rb.sweep.back();
  f.read_bound = rb.to_json();
  H2dBound hb;
  hb.device = "NVIDIA H200";
  hb.bytes_per_frame = 2.5e6;
  hb.pinned_GBps = {50.0, 52.0};
  hb.pageable_GBps = 20.0;
  f.h2d_bound = hb.to_json();
  return f;
}

void collect_keys(const json& j, std::set<std::string>& keys) {
  if (j.is_object())
    for (auto& [k, v] : j.items()) {
      keys.insert(k);
      collect_keys(v, keys);
    }
  else if (j.is_array())
    for (auto& v : j) collect_keys(v, keys);
}

std::string expect_refused(const json& j) {
  try {
    check_results_json(j, "doctored.json");
  } catch (const xrd::Error& e) {
    return e.what();
  }
  FAIL("a doctored file was accepted: " << j.dump());
  return "";
}

}  // namespace

TEST_CASE("row ids follow the schema", "[harness][results]") {
  CHECK(row_id("pool", 4, "gpu", "MEM") == "pool-4-gpu-MEM");
  CHECK(row_id("sequential", std::nullopt, "cpu", "SSD") == "sequential-cpu-SSD");
  CHECK(row_id("opencl", std::nullopt, "gpu", "MEM") == "opencl-gpu-MEM");
}

TEST_CASE("results round trip through write_results / read_results", "[harness][results]") {
  const auto dir = xrd::test::temp_dir("results");
  const auto path = dir / "sub" / "results.json";  // the folder is made
  const ResultsFile f = sample_file();
  write_results(path, f);
  CHECK_FALSE(fs::exists(path.string() + ".tmp." + std::to_string(::getpid())));

  const ResultsFile g = read_results(path);
  CHECK(g.schema == kResultsSchema);
  // "2026-11-24T10:00:00Z"
  REQUIRE(g.created.size() == 20);
  CHECK(g.created[4] == '-');
  CHECK(g.created[10] == 'T');
  CHECK(g.created.back() == 'Z');
  CHECK(g.command == f.command);
  CHECK(g.machine == f.machine);
  CHECK(g.dataset.frames == 1202);
  CHECK(g.dataset.bytes == 3000000000ull);
  CHECK(g.dataset.manifest == f.dataset.manifest);
  CHECK(g.settings.device == "opencl:0:0");
  CHECK(g.interrupted == false);
  REQUIRE(g.rows.size() == 3);
  CHECK(g.rows[2].mpi == f.rows[2].mpi);  // the MPI row's ranks and per-rank figures
  CHECK(g.rows[0].mpi.is_null());
  CHECK(g.rows[0].sink == f.rows[0].sink);  // the sink's figures read back
  CHECK(g.rows[1].sink.is_null());
  const auto& a = g.rows[0];
  CHECK(a.id == "pool-4-gpu-MEM");
  CHECK(a.readers == 4);
  CHECK(a.fps.median == 190.2);
  CHECK(a.fps.mad == Approx(2.2));  // deviations {2.2, 0, 2.9, 0.8, 2.7}
  CHECK(a.fps.runs == f.rows[0].fps.runs);
  CHECK(a.wall_s.runs == f.rows[0].wall_s.runs);
  CHECK(a.errors.size() == 1);
  CHECK(a.errors[0].file == "frame_0007.cbf");
  CHECK(a.max_rel_diff == 3.2e-7);
  CHECK(a.stages_ms == f.rows[0].stages_ms);
  REQUIRE(a.paper);
  CHECK(a.paper->median_fps == 190);
  CHECK(a.invalid_reasons == f.rows[0].invalid_reasons);
  const auto& b = g.rows[1];
  CHECK(b.id == "tbb-fused-cpu-SSD");
  CHECK_FALSE(b.readers);
  CHECK_FALSE(b.max_rel_diff);
  CHECK_FALSE(b.paper);
  // Writing what was read gives the same document.
  CHECK(to_json(g) == to_json([&] { auto c = f; c.created = g.created; return c; }()));
  fs::remove_all(dir);
}

TEST_CASE("every key documented in docs/results-schema.md is written", "[harness][results]") {
  std::ifstream in(fs::path(XRD_SOURCE_DIR) / "docs" / "results-schema.md");
  REQUIRE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Every "key": in the document (a quoted word followed by a colon).
  std::set<std::string> documented;
  for (size_t q = doc.find('"'); q != std::string::npos; q = doc.find('"', q + 1)) {
    const size_t e = doc.find('"', q + 1);
    if (e == std::string::npos) break;
    const std::string word = doc.substr(q + 1, e - q - 1);
    size_t after = e + 1;
    while (after < doc.size() && doc[after] == ' ') ++after;
    const bool is_key = !word.empty() && word.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string::npos;
    if (is_key && after < doc.size() && doc[after] == ':') documented.insert(word);
    q = e;
  }
  REQUIRE(documented.size() > 40);
  for (const char* k : {"schema", "rows", "stages_ms", "residency_before", "interrupted", "memcpy_GBps"})
    CHECK(documented.count(k) == 1);

  std::set<std::string> written;
  collect_keys(to_json(sample_file()), written);
  // The machine object and the OpenCL device entries come from capture_machine() (test_harness_environment
  // checks those); here: everything else.
  const std::set<std::string> machine_keys = {
      "hostname", "cpu_model", "cores", "threads_used", "memory_bytes", "kernel", "os", "compiler", "build_type",
      "commit", "xrdbench_version", "simd", "opencl", "platform", "device", "type", "driver", "version",
      "compute_units", "global_mem_bytes", "calibration", "memcpy_GBps", "scalar_decode_ms", "scalar_decode_cpu_ms",
      "cpus_online", "commit_dirty", "platform_version", "vendor", "clock_mhz", "memcpy_bytes",
      // machine.cpu_frequency / caches / load_average / storage, and row.load_average's before / after: written by
      // environment.cpp (test_harness_noise checks them, tests/reports/test_schema.py against real output)
      "cpu_frequency", "cur_mhz", "min_mhz", "max_mhz", "governor", "caches", "level", "size_bytes", "shared_by_cpus",
      "storage", "mount", "fs_type", "block_device", "disk", "model", "rotational", "before", "after",
      "max_alloc_bytes", "local_mem_bytes", "max_work_group_size",  // machine.opencl[] limits
      "mpi", "realtime"};  // written only by mpirun rows / `xrdbench realtime` (their own tests)
  for (auto& k : documented) {
    if (machine_keys.count(k)) continue;
    INFO("documented key: " << k);
    CHECK(written.count(k) == 1);
  }
}

TEST_CASE("another schema, missing keys, wrong types and duplicate ids are refused", "[harness][results]") {
  const json good = to_json([] { auto f = sample_file(); f.created = "2026-11-24T10:00:00Z"; return f; }());
  REQUIRE_NOTHROW(check_results_json(good, "good.json"));

  json j = good;
  j["schema"] = "xrdbench-results/2";
  auto msg = expect_refused(j);
  CHECK_THAT(msg, Catch::Contains("doctored.json") && Catch::Contains("xrdbench-results/2") &&
                      Catch::Contains("not supported") && Catch::Contains("xrdbench-results/1"));

  j = good;
  j.erase("schema");
  CHECK_THAT(expect_refused(j), Catch::Contains("not an xrdbench results file"));

  CHECK_THAT(expect_refused(json::array()), Catch::Contains("not a results file"));

  j = good;
  j["rows"][1]["fps"].erase("mad");
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[1].fps.mad") && Catch::Contains("missing"));

  j = good;
  j["rows"][2]["mpi"]["per_rank"] = 2;
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[2].mpi.per_rank"));
  j = good;
  j["rows"][2]["mpi"].erase("ranks");
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[2].mpi.ranks"));
  j = good;
  j["rows"][0]["sink"]["writer_ms"] = "slow";
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[0].sink.writer_ms"));
  j = good;
  j["rows"][0]["sink"].erase("max_queued");
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[0].sink.max_queued"));

  j = good;
  j["rows"][0]["source"] = "DISK";
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[0].source") && Catch::Contains("\"DISK\""));

  j = good;
  j["rows"][0]["fps"]["runs"][2] = "fast";
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[0].fps.runs[2]"));

  j = good;
  j["rows"][1]["id"] = j["rows"][0]["id"];
  CHECK_THAT(expect_refused(j), Catch::Contains("appears twice"));

  j = good;
  j["rows"][0]["validated"] = 1;
  CHECK_THAT(expect_refused(j), Catch::Contains("rows[0].validated") && Catch::Contains("true or false"));

  // Unknown keys are ignored (readers must tolerate additions).
  j = good;
  j["rows"][0]["something_new"] = 42;
  j["extra"] = {1, 2};
  CHECK_NOTHROW(check_results_json(j, "newer.json"));
}

TEST_CASE("read_results refuses other schemas and bad JSON with the file name", "[harness][results]") {
  const auto dir = xrd::test::temp_dir("results_bad");
  json j = to_json(sample_file());
  j["created"] = "2026-11-24T10:00:00Z";
  j["schema"] = "someone-else/3";
  std::ofstream(dir / "other.json") << j.dump();
  CHECK_THROWS_WITH(read_results(dir / "other.json"),
                    Catch::Contains("other.json") && Catch::Contains("someone-else/3") && Catch::Contains("not supported"));
  std::ofstream(dir / "broken.json") << "{\"schema\": ";
  CHECK_THROWS_WITH(read_results(dir / "broken.json"), Catch::Contains("broken.json") && Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(read_results(dir / "missing.json"), Catch::Contains("missing.json"));

  // A non-finite figure becomes null in JSON; the writer refuses it instead of writing a file nobody can read.
  auto f = sample_file();
  f.rows[0].fps.runs[1] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(write_results(dir / "inf.json", f), Catch::Contains("rows[0].fps.runs[1]"));
  CHECK_FALSE(fs::exists(dir / "inf.json"));
  fs::remove_all(dir);
}

TEST_CASE("command_line quotes what a shell would split", "[harness][results]") {
  std::string a0 = "xrdbench table1", a1 = "--dataset", a2 = "my data", a3 = "it's";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data()};
  CHECK(command_line(4, argv) == "xrdbench table1 --dataset 'my data' 'it'\\''s'");
}

TEST_CASE("H2dBound: the higher measurement makes the bound; device rows get their share of it") {
  H2dBound hb;
  CHECK(hb.frames_per_s() == 0);
  CHECK(hb.row_lines({}).empty());
  hb.device = "dev";
  hb.bytes_per_frame = 2.5e6;
  hb.pinned_GBps = {50.0, 52.0};
  CHECK(hb.best_GBps() == 52.0);
  CHECK(hb.frames_per_s() == Approx(20800.0));
  CHECK_THAT(hb.line(), Catch::Contains("52.0 GB/s") && Catch::Contains("50.0, 52.0") &&
                            Catch::Contains("20800 frames/s") && Catch::Contains("2.50 MB (dev)"));
  auto gpu = sample_row("opencl-batched", 4, "MEM");
  gpu.integrator = "gpu";
  gpu.id = "opencl-batched-4-gpu-MEM";
  gpu.valid = true;
  gpu.fps.median = 15600;
  gpu.fps.mad = 120;
  auto cpu = sample_row("fused", std::nullopt, "MEM");
  cpu.integrator = "cpu";
  cpu.valid = true;
  auto bad = gpu;
  bad.valid = false;
  const auto lines = hb.row_lines({gpu, cpu, bad});
  REQUIRE(lines.size() == 1);  // the CPU row and the invalid row get none
  CHECK_THAT(lines[0], Catch::Contains("opencl-batched-4-gpu-MEM: 15600 fps (MAD 120) = 75.0% of the host-to-device"));
  const json j = hb.to_json();
  CHECK(j["frames_per_s"].get<double>() == Approx(20800.0));
  CHECK(j["pinned_GBps"].size() == 2);
}
