// capture_machine(): every key of the schema's machine object with sane values; the calibration frame is
// deterministic and Pilatus-like; the calibration measures something.
#include <catch2/catch.hpp>


#include "harness/environment.hpp"
#include "kernels/byte_offset.hpp"

using namespace xrd::harness;
using nlohmann::json;

TEST_CASE("capture_machine has every key of the schema", "[harness][environment]") {
  MachineOptions opt;
  opt.memcpy_bytes = 16u << 20;  // small: this is a test, not a measurement
  opt.calibration_repeats = 3;
  opt.threads_used = 3;
  const json m = capture_machine(opt);
  for (const char* k : {"hostname", "cpu_model", "cores", "cpus_online", "threads_used", "memory_bytes", "kernel", "os",
                        "compiler", "build_type", "commit", "commit_dirty", "xrdbench_version", "simd", "opencl",
                        "calibration", "cpu_frequency", "caches", "load_average", "storage"}) {
    INFO("key " << k);
    CHECK(m.contains(k));
  }
  CHECK(m["storage"].is_null());  // no dataset_dir given
  CHECK(m["cpu_frequency"].is_object());
  CHECK(m["caches"].is_array());
  CHECK(m["cores"].get<int>() >= 1);
  CHECK(m["threads_used"] == 3);
  CHECK(m["memory_bytes"].get<uint64_t>() > (100ull << 20));
  CHECK(m["cpu_model"].get<std::string>() != "");
  CHECK(m["kernel"].get<std::string>().rfind("Linux ", 0) == 0);
  CHECK(m["simd"] == xrd::byte_offset::fast_decoder_name());
  CHECK(m["xrdbench_version"] == XRD_VERSION);
  const std::string commit = m["commit"];
  const bool hex = commit.size() >= 7 && commit.find_first_not_of("0123456789abcdef") == std::string::npos;
  CHECK((commit == "unknown" || hex));
  CHECK(m["compiler"].get<std::string>().size() > 4);
  REQUIRE(m["opencl"].is_array());
  for (auto& d : m["opencl"])
    for (const char* k : {"id", "platform", "platform_version", "device", "vendor", "type", "driver", "version",
                          "compute_units", "clock_mhz", "global_mem_bytes"}) {
      INFO("opencl key " << k << " in " << d.dump());
      CHECK(d.contains(k));
    }
  REQUIRE(m["calibration"].is_object());
  CHECK(m["calibration"]["memcpy_GBps"].get<double>() > 0.1);
  CHECK(m["calibration"]["scalar_decode_ms"].get<double>() > 0.0);
  CHECK(m["calibration"]["scalar_decode_cpu_ms"].get<double>() > 0.0);
  CHECK(m["calibration"]["memcpy_bytes"] == 16u << 20);
  CHECK(m["calibration"]["repeats"] == 3);

  opt.calibrate = false;
  opt.opencl = false;
  const json quick = capture_machine(opt);
  CHECK(quick["calibration"].is_null());
  CHECK(quick["opencl"] == json::array());
  CHECK(quick["hostname"] == m["hostname"]);
}

TEST_CASE("the calibration frame is deterministic and Pilatus-2M-like", "[harness][environment]") {
  const auto a = calibration_frame();
  REQUIRE(a.size() == size_t(1475) * 1679);
  CHECK(a == calibration_frame());
  size_t gaps = 0;
  for (int32_t v : a) gaps += v == -1;
  // Module gaps: 1475*1679 - 24 modules of 487*195.
  CHECK(gaps == size_t(1475) * 1679 - 24 * 487 * 195);
  CHECK(a[0] >= 0);
  CHECK(a[487] == -1);
  CHECK(a[size_t(195) * 1475] == -1);
  const auto s = calibration_stream();
  // The paper's ~4x compression: about 1 byte per pixel.
  CHECK(s.size() > 2'000'000);
  CHECK(s.size() < 3'200'000);
  std::vector<int32_t> back(a.size());
  REQUIRE(xrd::byte_offset::decode_scalar(s, back).ok());
  CHECK(back == a);
}
