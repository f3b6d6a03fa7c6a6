// `xrdbench cbf info` and `cbf encode` end to end: the real binary, real files, JSON keys and values, failures on
// stderr with the file named and a non-zero exit status while the good files are still reported.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "datasets/cbf.hpp"
#include "tests/test_cbf_support.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;
using nlohmann::json;

namespace {
std::string q(const fs::path& p) { return "'" + p.string() + "'"; }
fs::path real(const std::string& n) { return test::fixtures() / "real" / n; }

// Runs `xrdbench <args>` with stdout and stderr apart (run_xrdbench merges them): the JSON is parsed from stdout.
struct JsonRun {
  int status;
  std::string err;
  json out;
};
JsonRun run_json(const fs::path& dir, const std::string& args) {
  const fs::path err = dir / "stderr.txt";
  const std::string cmd = std::string("\"") + XRDBENCH_EXE + "\" " + args + " 2>" + q(err);
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  auto e = test::read_bytes(err);
  JsonRun j{WIFEXITED(st) ? WEXITSTATUS(st) : -1, std::string(e.begin(), e.end()), json()};
  if (!out.empty()) j.out = json::parse(out);
  return j;
}
}  // namespace

TEST_CASE("cbf info --json on the real Pilatus3 2M frame") {
  const auto dir = test::temp_dir("cbf_info_json");
  const fs::path f = real("pilatus3x2m_lab6_300_00_0001p.cbf");
  auto r = run_json(dir, "cbf info --json " + q(f));
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out.is_array());
  REQUIRE(r.out.size() == 1);
  const json& o = r.out[0];
  for (const char* k : {"path", "width", "height", "element_type", "compressed_bytes", "bytes_per_pixel", "md5", "min",
                        "max", "sum", "pixels_md5", "header"})
    CHECK(o.contains(k));
  CHECK(!o.contains("decode_ms"));
  CHECK(o["path"] == f.string());
  CHECK(o["width"] == 1475);
  CHECK(o["height"] == 1679);
  CHECK(o["element_type"] == "signed 32-bit integer");
  CHECK(o["compressed_bytes"] == 2596585);
  CHECK(o["bytes_per_pixel"].get<double>() == Approx(2596585.0 / (1475 * 1679)));
  CHECK(o["md5"] == "ok");
  CHECK(o["min"] == -2);
  CHECK(o["max"] == 88304);
  CHECK(o["sum"].get<int64_t>() == 545824841);
  CHECK(o["pixels_md5"] == "97d5ee8bccc8d01181030afc4237e2dd");
  const json& h = o["header"];
  CHECK(h["convention"] == "PILATUS_1.2");
  CHECK(h["detector"] == "PILATUS3 X_2M SN 24-0168");
  CHECK(h["timestamp"] == "2022-03-01T14:25:23.528");
  CHECK(h["wavelength_A"].get<double>() == Approx(0.69483));
  CHECK(h["detector_distance_m"].get<double>() == Approx(0.43912));
  CHECK(h["beam_x_px"].get<double>() == Approx(720.47));
  CHECK(h["beam_y_px"].get<double>() == Approx(1660.53));
  CHECK(h["pixel_size_x_m"].get<double>() == Approx(172e-6));
  CHECK(h["count_cutoff"] == 1079172);
  CHECK(h["n_excluded_pixels"] == 169);
  CHECK(h["other"]["Oscillation_axis"] == "OMEGA");
  fs::remove_all(dir);
}

TEST_CASE("cbf info --time adds decode_ms; the header-less file has a null header") {
  const auto dir = test::temp_dir("cbf_info_time");
  auto r = run_json(dir, "cbf info --json --time " + q(real("headerless_2m_example.cbf")));
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out.size() == 1);
  CHECK(r.out[0]["decode_ms"].get<double>() > 0);
  CHECK(r.out[0]["pixels_md5"] == "14df1152e47858b71bc252781d689237");
  CHECK(r.out[0]["header"]["wavelength_A"].is_null());
  CHECK(r.out[0]["header"]["other"].empty());
  fs::remove_all(dir);
}

TEST_CASE("cbf info: a bad file among good ones is named on stderr, the others are reported, exit 1") {
  const auto dir = test::temp_dir("cbf_info_bad");
  auto b = test::read_bytes(real("pilatus300k_in16c_010001.cbf"));
  b.resize(b.size() / 2);
  const fs::path bad = dir / "truncated_frame.cbf";
  test::write_bytes(bad, b);
  auto r = run_json(dir, "cbf info --json " + q(real("pilatus300k_in16c_010001.cbf")) + " " + q(bad) + " " +
                             q(dir / "missing.cbf") + " " + q(real("headerless_2m_example.cbf")));
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.err.find(bad.string() + ": field X-Binary-Size") != std::string::npos);
  CHECK(r.err.find("missing.cbf") != std::string::npos);
  CHECK(r.err.find("2 of 4 file(s) failed") != std::string::npos);
  REQUIRE(r.out.size() == 2);
  CHECK(r.out[0]["path"] == real("pilatus300k_in16c_010001.cbf").string());
  CHECK(r.out[0]["pixels_md5"] == "f28a1cf481cf59a370e4fec9f1466f03");
  CHECK(r.out[1]["path"] == real("headerless_2m_example.cbf").string());
  fs::remove_all(dir);
}

TEST_CASE("cbf info: an MD5 mismatch fails unless --no-md5") {
  const auto dir = test::temp_dir("cbf_info_md5");
  auto b = test::read_bytes(real("pilatus300k_in16c_010001.cbf"));
  b = test::replaced(b, "Content-MD5: ZlfdE4e4IyhcVg+jTiG/Vg==", "Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==");
  const fs::path f = dir / "bad_md5.cbf";
  test::write_bytes(f, b);
  auto strict = run_json(dir, "cbf info --json " + q(f));
  CHECK(strict.status == 1);
  CHECK(strict.err.find(f.string() + ": field Content-MD5") != std::string::npos);
  CHECK(strict.out.empty());
  auto lax = run_json(dir, "cbf info --json --no-md5 " + q(f));
  INFO(lax.err);
  CHECK(lax.status == 0);
  REQUIRE(lax.out.size() == 1);
  CHECK(lax.out[0]["md5"] == "mismatch");
  CHECK(lax.out[0]["pixels_md5"] == "f28a1cf481cf59a370e4fec9f1466f03");
  fs::remove_all(dir);
}

TEST_CASE("cbf info human output, --help and usage errors") {
  auto r = test::run_xrdbench("cbf info " + q(real("pilatus3x2m_lab6_300_00_0001p.cbf")));
  CHECK(r.status == 0);
  CHECK(r.output.find("1475 x 1679") != std::string::npos);
  CHECK(r.output.find("wavelength 0.69483 A") != std::string::npos);
  CHECK(r.output.find("beam (720.47, 1660.53) px") != std::string::npos);
  CHECK(r.output.find("MD5         ok") != std::string::npos);
  auto help = test::run_xrdbench("cbf info --help");
  CHECK(help.status == 0);
  CHECK(help.output.find("--no-md5") != std::string::npos);
  CHECK(test::run_xrdbench("cbf info").status == 2);
  CHECK(test::run_xrdbench("cbf info --repeats 3 --time x.cbf").status == 2);
  CHECK(test::run_xrdbench("cbf info --bogus x.cbf").status == 2);
}

TEST_CASE("cbf encode writes raw pixels as a CBF that cbf info reads, header copied from another file") {
  const auto dir = test::temp_dir("cbf_encode");
  const fs::path raw = test::fixtures() / "cbf" / "fabio_written" / "deltas_32bit.i32le";  // 30 x 30
  auto r = test::run_xrdbench("cbf encode --width 30 --height 30 --header-from " +
                              q(real("pilatus3x2m_lab6_300_00_0001p.cbf")) + " " + q(raw) + " " + q(dir / "o.cbf"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto img = cbf::read_image(dir / "o.cbf", true);
  CHECK(test::first_difference(img.pixels, test::read_i32le(test::read_bytes(raw))) == -1);
  auto info = run_json(dir, "cbf info --json " + q(dir / "o.cbf"));
  REQUIRE(info.out.size() == 1);
  CHECK(info.out[0]["pixels_md5"] == "941336a021e0680f5bd53e4ca6d66c76");
  CHECK(info.out[0]["header"]["wavelength_A"].get<double>() == Approx(0.69483));
  // Wrong size for the raw file: an error naming it.
  auto bad = test::run_xrdbench("cbf encode --width 31 --height 30 " + q(raw) + " " + q(dir / "p.cbf"));
  CHECK(bad.status == 1);
  CHECK(bad.output.find(raw.string()) != std::string::npos);
  fs::remove_all(dir);
}
