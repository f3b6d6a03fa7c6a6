// `--decoder NAME` (byte_offset::use_decoder): `xrdbench cbf info` decodes the real 2M frame with each kernel this CPU runs,
// says which, and gets the pixels of expected.json; unknown kernels and kernels this CPU lacks are clear errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/byte_offset.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

namespace {

const char* const kFrame = "pilatus3x2m_lab6_300_00_0001p.cbf";

std::string expected_pixels_md5() {
  std::ifstream js(test::fixtures() / "real" / "expected.json");
  REQUIRE(js);
  return nlohmann::json::parse(js)[kFrame]["pixels_md5"].get<std::string>();
}

}  // namespace

TEST_CASE("cbf info --decoder K decodes with kernel K and says so", "[codec][cli]") {
  const std::string frame = (test::fixtures() / "real" / kFrame).string();
  const std::string md5 = expected_pixels_md5();
  int runs = 0;
  for (const auto& k : byte_offset::decoder_kernels()) {
    if (!k.supported()) continue;
    const auto r = test::run_xrdbench(std::string("cbf info --json --time --decoder ") + k.name + " \"" + frame + "\"");
    INFO(r.output);
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.output);
    CHECK(j[0]["decoder"] == std::string("cpu (") + k.name + ")");
    CHECK(j[0]["pixels_md5"] == md5);
    CHECK(j[0]["decode_ms"].get<double>() > 0);
    ++runs;
  }
  CHECK(runs >= 2);  // scalar and at least one SIMD kernel on any x86-64 machine we build for
  // auto: the best kernel this CPU runs.
  const auto r = test::run_xrdbench("cbf info --json \"" + frame + "\"");
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.output)[0]["decoder"] == std::string("cpu (") + byte_offset::fast_decoder_name() + ")");
}

TEST_CASE("decoder by name: an unknown kernel, or one this CPU lacks, is a clear error", "[codec][cli]") {
  const std::string frame = (test::fixtures() / "real" / kFrame).string();
  const auto r = test::run_xrdbench("cbf info --decoder neon \"" + frame + "\"");
  CHECK(r.status == 2);
  CHECK(r.output.find("no byte-offset kernel called 'neon'") != std::string::npos);
  CHECK(r.output.find("avx2") != std::string::npos);  // the known names are listed
  CHECK_THROWS_AS(byte_offset::find_decoder("neon"), Error);
  for (const auto& k : byte_offset::decoder_kernels()) {
    if (k.supported()) {
      CHECK(std::string(byte_offset::find_decoder(k.name).name) == k.name);
      continue;
    }
    // This CPU lacks it: the message says what the kernel needs.
    const auto u = test::run_xrdbench(std::string("cbf info --decoder ") + k.name + " \"" + frame + "\"");
    CHECK(u.status == 2);
    CHECK(u.output.find(std::string("needs ") + k.needs) != std::string::npos);
    CHECK(u.output.find("this CPU lacks") != std::string::npos);
  }
}

TEST_CASE("use_decoder switches what decode() runs in this process, auto switches back", "[codec][kernels]") {
  const char* best = byte_offset::fast_decoder_name();
  byte_offset::use_decoder("scalar");
  CHECK(std::string(byte_offset::fast_decoder_name()) == "scalar");
  std::vector<uint8_t> s;
  const std::vector<int32_t> px = {1, 300, -70000, 5, 5, 1 << 30};
  byte_offset::encode(px, s);
  std::vector<int32_t> back(px.size());
  CHECK(byte_offset::decode(s, back).ok());
  CHECK(back == px);
  byte_offset::use_decoder("auto");
  CHECK(std::string(byte_offset::fast_decoder_name()) == best);
}
