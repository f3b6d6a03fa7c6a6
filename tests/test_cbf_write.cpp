// Our writer: write -> read gives the same pixels and header; the file has the layout real Pilatus files have
// (Content-MD5, 4095 padding bytes); buffers are reused. (fabio reading our files: tests/scripts/check_fabio_roundtrip.py)
#include <catch2/catch.hpp>

#include <random>

#include "datasets/cbf.hpp"
#include "tests/test_cbf_support.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;

namespace {
// Pixels with every delta class: 1-byte, 16-bit, 32-bit and 64-bit escapes (INT32_MIN/MAX jumps), negatives.
std::vector<int32_t> mixed_pixels(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: v[i] = static_cast<int32_t>(rng()); break;
      case 1: v[i] = i % 2 ? INT32_MIN : INT32_MAX; break;
      case 2: v[i] = static_cast<int32_t>(rng() % 60000) - 30000; break;
      case 3: v[i] = -1; break;
      default: v[i] = static_cast<int32_t>(rng() % 200); break;
    }
  }
  return v;
}
}  // namespace

TEST_CASE("write -> read gives back pixels and header") {
  const auto dir = test::temp_dir("cbf_write");
  cbf::PilatusHeader h;
  h.detector = "PILATUS3 X_2M SN 24-0168";
  h.timestamp = "2022-03-01T14:25:23.528";
  h.pixel_size_x_m = 172e-6;
  h.pixel_size_y_m = 172e-6;
  h.exposure_time_s = 9.99905;
  h.exposure_period_s = 10.0;
  h.tau_s = 383.8e-9;
  h.count_cutoff = 1079172;
  h.threshold_eV = 4024;
  h.n_excluded_pixels = 169;
  h.wavelength_A = 0.69483;
  h.detector_distance_m = 0.43912;
  h.beam_x_px = 720.47;
  h.beam_y_px = 1660.53;
  h.other["Gain_setting"] = "autog vrf 1.000";
  h.other["Silicon"] = "sensor, thickness 0.000450 m";
  h.other["Flat_field"] = "(nil)";

  for (auto [w, hh] : {std::pair<size_t, size_t>{1, 1}, {7, 3}, {1000, 1}, {1, 517}, {123, 77}}) {
    INFO(w << " x " << hh);
    const auto px = mixed_pixels(w * hh, static_cast<uint32_t>(w * 31 + hh));
    const fs::path p = dir / ("img_" + std::to_string(w) + "x" + std::to_string(hh) + ".cbf");
    cbf::write(p, px, w, hh, h);
    const auto bytes = test::read_bytes(p);
    const auto v = cbf::parse(bytes, p.string());
    CHECK(v.binary.width == w);
    CHECK(v.binary.height == hh);
    CHECK(v.binary.padding == 4095);
    CHECK(cbf::check_md5(v) == cbf::Md5Status::ok);
    // Padding: 4095 zero bytes right after the payload, as Pilatus detectors write.
    const size_t end = v.binary.payload_offset + v.binary.binary_size;
    REQUIRE(bytes.size() >= end + 4095);
    CHECK(std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(end),
                      bytes.begin() + static_cast<std::ptrdiff_t>(end + 4095), [](uint8_t b) { return b == 0; }));
    // The shortest stream, as the encoder computes it.
    CHECK(v.binary.binary_size == byte_offset::encoded_size(px));

    auto img = cbf::read_image(p, true);
    CHECK(test::first_difference(img.pixels, px) == -1);
    const auto& r = v.header;
    CHECK(r.convention == "PILATUS_1.2");
    CHECK(r.detector == h.detector);
    CHECK(r.timestamp == h.timestamp);
    // Shortest round-trip formatting: the doubles come back exactly.
    CHECK(r.pixel_size_x_m == h.pixel_size_x_m);
    CHECK(r.pixel_size_y_m == h.pixel_size_y_m);
    CHECK(r.exposure_time_s == h.exposure_time_s);
    CHECK(r.exposure_period_s == h.exposure_period_s);
    CHECK(r.tau_s == h.tau_s);
    CHECK(r.count_cutoff == h.count_cutoff);
    CHECK(r.threshold_eV == h.threshold_eV);
    CHECK(r.n_excluded_pixels == h.n_excluded_pixels);
    CHECK(r.wavelength_A == h.wavelength_A);
    CHECK(r.detector_distance_m == h.detector_distance_m);
    CHECK(r.beam_x_px == h.beam_x_px);
    CHECK(r.beam_y_px == h.beam_y_px);
    CHECK(r.other == h.other);
  }
  fs::remove_all(dir);
}

TEST_CASE("a real frame re-written by us reads back identically, header included") {
  const fs::path src = test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
  std::vector<uint8_t> in;
  cbf::read_file(src, in);
  const auto v = cbf::parse(in, src.string());
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, px);

  std::vector<uint8_t> out, scratch;
  cbf::write_to(out, px, v.binary.width, v.binary.height, v.header, scratch);
  const auto w = cbf::parse(out, "rewritten.cbf");
  CHECK(w.binary.binary_size == v.binary.binary_size);  // both are the shortest stream
  CHECK(std::equal(w.payload.begin(), w.payload.end(), v.payload.begin(), v.payload.end()));
  CHECK(w.binary.content_md5 == v.binary.content_md5);
  CHECK(w.header.other == v.header.other);
  CHECK(w.header.wavelength_A == v.header.wavelength_A);
  CHECK(w.header.beam_y_px == v.header.beam_y_px);
  CHECK(w.header.detector == v.header.detector);

  // Buffers are reused: a second write of the same frame does not reallocate.
  const auto* out_data = out.data();
  const auto* scratch_data = scratch.data();
  cbf::write_to(out, px, v.binary.width, v.binary.height, v.header, scratch);
  CHECK(out.data() == out_data);
  CHECK(scratch.data() == scratch_data);
}

TEST_CASE("the writer refuses bad arguments with xrd::Error") {
  std::vector<int32_t> px(6);
  std::vector<uint8_t> out, scratch;
  CHECK_THROWS_AS(cbf::write_to(out, px, 2, 2, {}, scratch), Error);  // 6 pixels for 2 x 2
  CHECK_THROWS_AS(cbf::write_to(out, px, 0, 6, {}, scratch), Error);
  cbf::PilatusHeader h;
  h.other["Comment"] = "two\r\nlines";
  CHECK_THROWS_AS(cbf::write_to(out, px, 3, 2, h, scratch), Error);
  try {
    cbf::write("/nonexistent/dir/x.cbf", px, 3, 2);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.file() == "/nonexistent/dir/x.cbf");
  }
}
