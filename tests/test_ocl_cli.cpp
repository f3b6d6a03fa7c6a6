// The command line on OpenCL: `xrdbench devices`, and `cbf info` / `integrate` with --device opencl giving the same
// results as on the CPU (bit for bit for the decoded pixels, 1e-5 for the patterns), bad frames reported by name.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "datasets/cbf.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using test::run_xrdbench;

namespace {

std::string q(const std::filesystem::path& p) { return "\"" + p.string() + "\""; }

std::vector<std::vector<double>> read_csv(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> r;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) r.push_back(std::stod(cell));
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

TEST_CASE("xrdbench devices lists the OpenCL devices and checks a --device value", "[ocl][cli]") {
  auto r = run_xrdbench("devices");
  CHECK(r.status == 0);
  CHECK(r.output.find("opencl:0:0") != std::string::npos);
  r = run_xrdbench("devices --json");
  CHECK(r.status == 0);
  CHECK(r.output.find("\"max_work_group_size\"") != std::string::npos);
  r = run_xrdbench("devices --check opencl");
  CHECK(r.status == 0);
  CHECK(r.output.find("build and decode correctly") != std::string::npos);
  r = run_xrdbench("devices --check opencl:no-such-platform");
  CHECK(r.status != 0);
  CHECK(r.output.find("no OpenCL device matches 'opencl:no-such-platform'") != std::string::npos);
  CHECK(r.output.find("available devices:") != std::string::npos);
  r = run_xrdbench("devices --check gpu0");
  CHECK(r.status != 0);
  CHECK(r.output.find("is not a device: expected cpu, opencl") != std::string::npos);
}

TEST_CASE("cbf info --device opencl reports the same pixels as the CPU", "[ocl][cli]") {
  const auto f = test::fixtures();
  const std::string files = q(f / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf") + " " +
                            q(f / "real" / "pilatus300k_in16c_010001.cbf") + " " +
                            q(f / "cbf" / "hand_made" / "escape64.cbf") + " " +
                            q(f / "cbf" / "fabio_written" / "exception_runs.cbf");
  auto cpu = run_xrdbench("cbf info --json --device cpu " + files);
  auto gpu = run_xrdbench("cbf info --json --device opencl " + files);
  REQUIRE(cpu.status == 0);
  REQUIRE(gpu.status == 0);
  // Everything but the decoder's name ("avx2", "opencl (device)") is the same.
  auto without_decoder = [](const std::string& text) {
    nlohmann::json j = nlohmann::json::parse(text);
    for (auto& e : j) {
      CHECK(e.contains("decoder"));
      e.erase("decoder");
    }
    return j;
  };
  CHECK(without_decoder(gpu.output) == without_decoder(cpu.output));
  CHECK(gpu.output.find("\"decoder\": \"opencl") != std::string::npos);
  CHECK(gpu.output.find("97d5ee8bccc8d01181030afc4237e2dd") != std::string::npos);  // expected.json's pixels_md5
}

TEST_CASE("integrate --device opencl matches the CPU engine; a bad frame is named, the others kept", "[ocl][cli]") {
  const auto f = test::fixtures();
  const auto dir = test::temp_dir("ocl_cli");
  const auto frame = f / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
  const std::string common = "--poni " + q(f / "real" / "pilatus3x2m_lab6_300_00_0001p.poni") + " --mask " +
                             q(f / "pilatus2m_mask.cbf") + " --polarization 0.99 --bins 500 ";
  auto cpu = run_xrdbench("integrate --device cpu " + common + "--out " + q(dir / "cpu.csv") + " " + q(frame));
  auto gpu = run_xrdbench("integrate --device opencl " + common + "--out " + q(dir / "gpu.csv") + " " + q(frame));
  INFO(cpu.output << gpu.output);
  REQUIRE(cpu.status == 0);
  REQUIRE(gpu.status == 0);
  CHECK(gpu.output.find("opencl (") != std::string::npos);
  auto a = read_csv(dir / "cpu.csv"), b = read_csv(dir / "gpu.csv");
  REQUIRE(a.size() == 500);
  REQUIRE(b.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(b[i][0] == a[i][0]);  // radial
    if (a[i][3] <= 0.5) continue;
    for (int k = 1; k < 4; ++k) CHECK(std::abs(b[i][k] - a[i][k]) <= 1e-5 * std::abs(a[i][k]));
  }
  // --engine opencl: decoded on the CPU (pipeline), integrated on the device; the same pattern.
  auto host = run_xrdbench("integrate --engine opencl --device opencl " + common + "--out " + q(dir / "host.csv") + " " +
                           q(frame));
  INFO(host.output);
  REQUIRE(host.status == 0);
  CHECK(host.output.find("opencl (") != std::string::npos);
  CHECK(host.output.find("pipeline strategy") != std::string::npos);
  auto c = read_csv(dir / "host.csv");
  REQUIRE(c.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(c[i][0] == a[i][0]);
    if (a[i][3] <= 0.5) continue;
    for (int k = 1; k < 4; ++k) CHECK(std::abs(c[i][k] - a[i][k]) <= 1e-5 * std::abs(a[i][k]));
  }

  // A frame whose stream ends inside an escape, between two good frames, in one batch: only it fails.
  auto bytes = test::read_bytes(frame);
  const auto v = cbf::parse(bytes, frame.string());
  // The last payload byte becomes an escape marker: the stream ends inside it (the MD5 is not checked here).
  bytes[v.binary.payload_offset + v.payload.size() - 1] = 0x80;
  const auto bad = dir / "bad_frame.cbf";
  test::write_bytes(bad, bytes);
  auto r = run_xrdbench("integrate --device opencl " + common + "--out " + q(dir / "scan.h5") + " " + q(frame) + " " +
                        q(bad) + " " + q(frame));
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("bad_frame.cbf") != std::string::npos);
  CHECK(r.output.find("byte-offset stream") != std::string::npos);
  CHECK(r.output.find("2 frames") != std::string::npos);
  CHECK(r.output.find("(1 failed)") != std::string::npos);
  std::filesystem::remove_all(dir);
}
