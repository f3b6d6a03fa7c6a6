// The machine record and the noise warnings (issue 13): load average, CPU frequency, caches and the dataset's storage
// in results.json, checked against the system's own tools (findmnt, getconf, getloadavg); the noise rules
// (MAD / median, load above the CPU count) and their lines in table1.md and on the console.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/environment.hpp"
#include "harness/table1.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using nlohmann::json;

namespace {
// stdout of a shell command, trimmed ("" when it fails).
std::string shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return rc == 0 ? out : "";
}
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
harness::ResultRow row_with(std::vector<double> runs, double load_1min) {
  harness::ResultRow r;
  r.id = "fused-cpu-MEM";
  r.fps = harness::summarize_fps(std::move(runs));
  r.valid = true;
  r.load_average = harness::row_load_average_json(std::array<double, 3>{load_1min, 1, 1},
                                                  std::array<double, 3>{0.5, 1, 1});
  return r;
}
}  // namespace

TEST_CASE("noise_warnings: MAD above 5% of the median, or a 1-minute load above the CPUs", "[harness][noise]") {
  // MAD 2 of median 100 = 2%: quiet; load 1.5 on 2 CPUs: not busy
  CHECK(harness::noise_warnings(row_with({98, 100, 102}, 1.5), 2).empty());
  // MAD 10 of 100 = 10%
  auto w = harness::noise_warnings(row_with({90, 100, 110}, 1.5), 2);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "spread: MAD is 10.0% of the median (> 5%)");
  // load 3.25 before the row on 2 CPUs
  w = harness::noise_warnings(row_with({98, 100, 102}, 3.25), 2);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == "machine busy: 1-minute load average 3.25 on 2 CPUs");
  // no load recorded (older files), no runs: nothing to say
  harness::ResultRow bare;
  CHECK(harness::noise_warnings(bare, 2).empty());
}

TEST_CASE("table1.md lists the noisy rows with the same words", "[harness][noise]") {
  harness::ResultsFile f;
  f.machine = {{"cpus_online", 2}, {"cores", 2}};
  f.dataset.frames = 10;
  auto quiet = row_with({98, 100, 102}, 0.5);
  quiet.id = "sequential-cpu-MEM";
  auto noisy = row_with({90, 100, 110}, 4.0);
  f.rows = {quiet, noisy};
  const std::string md = harness::table1_markdown(f);
  CHECK_THAT(md, Catch::Contains("## Warning: noisy rows"));
  CHECK_THAT(md, Catch::Contains("- `fused-cpu-MEM`: spread: MAD is 10.0% of the median (> 5%); machine busy: "
                                 "1-minute load average 4.00 on 2 CPUs"));
  CHECK_THAT(md, !Catch::Contains("- `sequential-cpu-MEM`:"));
  f.rows = {quiet};
  CHECK_THAT(harness::table1_markdown(f), !Catch::Contains("noisy rows"));
}

TEST_CASE("load average, caches and CPU frequency agree with the system", "[harness][environment]") {
  const auto l = harness::read_load_average();
  REQUIRE(l);
  double peer[3];
  REQUIRE(::getloadavg(peer, 3) == 3);
  for (int i = 0; i < 3; ++i) CHECK((*l)[i] == Approx(peer[i]).margin(0.5));  // the same counters, a moment apart

  const json caches = harness::cpu_caches_json();
  const std::string l1d = shell("getconf LEVEL1_DCACHE_SIZE 2>/dev/null");
  if (!caches.empty() && !l1d.empty() && std::atoll(l1d.c_str()) > 0) {
    bool found = false;
    for (auto& c : caches)
      if (c["level"] == 1 && c["type"] == "Data") {
        found = true;
        CHECK(c["size_bytes"].get<long long>() == std::atoll(l1d.c_str()));
        CHECK(c["shared_by_cpus"].get<int>() >= 1);
      }
    CHECK(found);
  }
  const json f = harness::cpu_frequency_json();
  for (const char* k : {"cur_mhz", "min_mhz", "max_mhz", "governor", "driver", "source"}) CHECK(f.contains(k));
  if (f["source"] == "cpufreq") {
    CHECK(f["governor"] == shell("cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
  } else if (f["source"] == "/proc/cpuinfo") {
    CHECK(f["cur_mhz"].get<double>() > 100);
    CHECK(f["governor"].is_null());
  }
}

TEST_CASE("storage_json names the mount and file system findmnt names", "[harness][environment]") {
  const auto dir = test::temp_dir("storage");
  const json s = harness::storage_json(dir);
  const std::string target = shell("findmnt -n -o TARGET --target '" + dir.string() + "' 2>/dev/null");
  const std::string fstype = shell("findmnt -n -o FSTYPE --target '" + dir.string() + "' 2>/dev/null");
  if (target.empty()) {
    WARN("findmnt (util-linux) is not available: storage_json not compared");
    return;
  }
  CHECK(s["mount"] == target);
  CHECK(s["fs_type"] == fstype);
  CHECK(s["path"] == std::filesystem::canonical(dir).string());
  if (!s["block_device"].is_null()) {
    // the block device's major:minor is the file system's st_dev
    const std::string majmin = shell("stat -c '%Hd:%Ld' '" + dir.string() + "'");
    CHECK(slurp(std::filesystem::path("/sys/class/block") / s["block_device"].get<std::string>() / "dev")
              .find(majmin) == 0);
    CHECK(s["rotational"].is_boolean());
  }
}

TEST_CASE("xrdbench run records the machine block and each row's load average", "[harness][environment]") {
  const auto dir = test::make_tiny_dataset("noise_run", 2);
  const auto out = test::temp_dir("noise_run_out");
  auto r = test::run_xrdbench("run --dataset '" + dir.string() + "' --strategy sequential --repeats 2 --warmup 0 "
                              "--bins 100 --device cpu --out '" + out.string() + "'");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(out / "results.json"));
  const json& m = j["machine"];
  CHECK(m["storage"]["path"] == std::filesystem::canonical(dir).string());
  CHECK(m["storage"]["mount"] == harness::storage_json(dir)["mount"]);
  CHECK(m["caches"].is_array());
  CHECK(m["cpu_frequency"].is_object());
  REQUIRE(m["load_average"].is_array());
  CHECK(m["load_average"].size() == 3);
  const json& la = j["rows"][0]["load_average"];
  REQUIRE(la["before"].is_array());
  REQUIRE(la["after"].is_array());
  CHECK(la["before"].size() == 3);
  CHECK(la["after"][0].get<double>() >= 0);
  // Read back through the C++ reader too (read_results keeps it).
  const auto f = harness::read_results(out / "results.json");
  CHECK(f.rows[0].load_average == la);
  // The console says the row finished on its own line, and names noisy rows the way table1.md does.
  CHECK_THAT(r.output, Catch::Contains("sequential-cpu-MEM"));
  for (auto& w : harness::noise_warnings(f.rows[0], m["cpus_online"].get<int>()))
    CHECK_THAT(r.output, Catch::Contains("warning: " + w));
}
