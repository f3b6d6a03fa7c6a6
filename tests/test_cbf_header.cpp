// The CIF/Pilatus header and MIME fields of each real file, both conventions (PILATUS_1.2, SLS/DECTRIS_1.1),
// CRLF and LF line ends, header-less files and full CBF files with other CIF data before the binary section.
#include <catch2/catch.hpp>

#include "datasets/cbf.hpp"
#include "tests/test_cbf_support.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd;

namespace {
std::vector<uint8_t> real(const std::string& name) { return test::read_bytes(test::fixtures() / "real" / name); }

// The same bytes with every CRLF turned into LF in the text before the binary marker.
std::vector<uint8_t> header_to_lf(const std::vector<uint8_t>& b) {
  const size_t marker = test::offset_of(b, "\x0c\x1a\x04\xd5");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < marker; ++i)
    if (!(b[i] == '\r' && i + 1 < marker && b[i + 1] == '\n')) out.push_back(b[i]);
  out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(marker), b.end());
  return out;
}
}  // namespace

TEST_CASE("Pilatus3 2M header (PILATUS_1.2)") {
  auto b = real("pilatus3x2m_lab6_300_00_0001p.cbf");
  auto v = cbf::parse(b, "2m.cbf");
  const auto& h = v.header;
  CHECK(h.convention == "PILATUS_1.2");
  CHECK(h.detector == "PILATUS3 X_2M SN 24-0168");
  CHECK(h.timestamp == "2022-03-01T14:25:23.528");
  CHECK(*h.pixel_size_x_m == Approx(172e-6));
  CHECK(*h.pixel_size_y_m == Approx(172e-6));
  CHECK(*h.exposure_time_s == Approx(9.99905));
  CHECK(*h.exposure_period_s == Approx(9.99905));
  CHECK(*h.tau_s == 0.0);
  CHECK(*h.count_cutoff == 1079172);
  CHECK(*h.threshold_eV == Approx(4024));
  CHECK(*h.n_excluded_pixels == 169);
  CHECK(*h.wavelength_A == Approx(0.69483));
  CHECK(*h.detector_distance_m == Approx(0.43912));
  CHECK(*h.beam_x_px == Approx(720.47));
  CHECK(*h.beam_y_px == Approx(1660.53));
  CHECK(h.other.at("Gain_setting") == "autog vrf 1.000");
  CHECK(h.other.at("Oscillation_axis") == "OMEGA");
  CHECK(h.other.at("Flux") == "10295800 counts");
  CHECK(h.other.at("Silicon") == "sensor thickness 0.000450");
  CHECK(h.other.count("Wavelength") == 0);  // typed fields are not duplicated in `other`

  const auto& m = v.binary;
  CHECK(m.conversions == "x-CBF_BYTE_OFFSET");
  CHECK(m.transfer_encoding == "BINARY");
  CHECK(m.binary_size == 2596585);
  CHECK(m.binary_id == 1);
  CHECK(m.element_type == byte_offset::ElementType::i32);
  CHECK(m.element_type_text == "signed 32-bit integer");
  CHECK(m.byte_order == "LITTLE_ENDIAN");
  CHECK(*m.content_md5 == "R64Dn7dyfLPKDAIpa5YBfA==");
  CHECK(m.n_elements == 2476525);
  CHECK(m.width == 1475);
  CHECK(m.height == 1679);
  CHECK(m.padding == 4095);
  CHECK(m.payload_offset == 1575);
}

TEST_CASE("Pilatus 300K header (SLS/DECTRIS_1.1)") {
  auto b = real("pilatus300k_in16c_010001.cbf");
  const auto h = cbf::parse(b, "300k.cbf").header;
  CHECK(h.convention == "SLS/DECTRIS_1.1");
  CHECK(h.detector == "PILATUS 300K, S/N 3-0118, Universite de Geneve");
  CHECK(h.timestamp == "2011-Nov-01T17:59:04.733");
  CHECK(*h.tau_s == Approx(383.8e-9));
  CHECK(*h.count_cutoff == 1302749);
  CHECK(*h.threshold_eV == Approx(4024));
  CHECK(*h.n_excluded_pixels == 19);
  CHECK(*h.wavelength_A == Approx(1.542));
  CHECK(*h.detector_distance_m == Approx(0.04));
  CHECK(*h.beam_x_px == Approx(244));
  CHECK(*h.beam_y_px == Approx(308));
  CHECK(*h.exposure_period_s == Approx(1.005));
  CHECK(h.other.at("Gain_setting") == "high gain (vrf = -0.150)");
  CHECK(h.other.at("Flat_field") == "(nil)");
}

TEST_CASE("Pilatus3 6M header") {
  auto b = real("pilatus3_6m_thau_3_2_0001.cbf");
  const auto v = cbf::parse(b, "6m.cbf");
  CHECK(v.header.detector == "PILATUS3 6M, S/N 60-0119");
  CHECK(*v.header.wavelength_A == Approx(0.96859));
  CHECK(*v.header.detector_distance_m == Approx(0.351));
  CHECK(*v.header.beam_x_px == Approx(1261.61));
  CHECK(*v.header.beam_y_px == Approx(1306.96));
  CHECK(*v.header.exposure_time_s == Approx(0.019));
  CHECK(v.header.other.at("Polarization") == "0.990");
  CHECK(v.header.other.at("N_oscillations") == "1");
  CHECK(v.binary.width == 2463);
  CHECK(v.binary.height == 2527);
}

TEST_CASE("a header-less file (binary section only, no padding bytes) reads") {
  auto b = real("headerless_2m_example.cbf");
  const auto v = cbf::parse(b, "headerless.cbf");
  CHECK(v.header.convention.empty());
  CHECK(v.header.detector.empty());
  CHECK(!v.header.wavelength_A);
  CHECK(v.header.other.empty());
  CHECK(v.binary.padding == 4095);  // declared, but the file ends right after the payload
  CHECK(v.binary.payload_offset + v.binary.binary_size == b.size());
  CHECK(cbf::check_md5(v) == cbf::Md5Status::ok);
}

TEST_CASE("LF line ends parse like CRLF") {
  for (const char* name : {"pilatus3x2m_lab6_300_00_0001p.cbf", "pilatus300k_in16c_010001.cbf"}) {
    INFO(name);
    auto crlf = real(name);
    auto lf = header_to_lf(crlf);
    REQUIRE(lf.size() < crlf.size());
    auto a = cbf::parse(crlf, name), c = cbf::parse(lf, name);
    CHECK(a.header.detector == c.header.detector);
    CHECK(a.header.timestamp == c.header.timestamp);
    CHECK(a.header.wavelength_A == c.header.wavelength_A);
    CHECK(a.header.beam_y_px == c.header.beam_y_px);
    CHECK(a.header.other == c.header.other);
    CHECK(a.binary.width == c.binary.width);
    CHECK(a.binary.content_md5 == c.binary.content_md5);
    CHECK(c.binary.conversions == "x-CBF_BYTE_OFFSET");
    CHECK(std::equal(a.payload.begin(), a.payload.end(), c.payload.begin(), c.payload.end()));
    CHECK(cbf::check_md5(c) == cbf::Md5Status::ok);
  }
}

TEST_CASE("a full CBF file with other CIF data and loops before the binary section reads") {
  auto b = real("pilatus300k_in16c_010001.cbf");
  const std::string extra =
      "\r\n_diffrn.id DS1\r\n_diffrn.crystal_id xtal\r\nloop_\r\n_diffrn_detector_element.id\r\n"
      "_diffrn_detector_element.detector_id\r\nELEMENT1 DET1\r\n_array_structure.byte_order little_endian\r\n"
      "_array_data.array_id image_1\r\n_array_data.binary_id 1\r\n";
  auto full = test::replaced(b, "\r\n_array_data.data", extra + "_array_data.data");
  const auto v = cbf::parse(full, "full.cbf");
  CHECK(v.header.detector == "PILATUS 300K, S/N 3-0118, Universite de Geneve");
  CHECK(v.binary.width == 487);
  CHECK(cbf::check_md5(v) == cbf::Md5Status::ok);
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, px);
  CHECK(test::pixel_stats(px).md5_hex == "f28a1cf481cf59a370e4fec9f1466f03");
}

TEST_CASE("MIME variants: conversions on the Content-Type line, keys in any case, no optional fields") {
  auto b = real("pilatus300k_in16c_010001.cbf");
  b = test::replaced(b, "application/octet-stream;\r\n     conversions", "application/octet-stream; conversions");
  b = test::replaced(b, "X-Binary-Size-Fastest-Dimension", "x-binary-size-fastest-dimension");
  b = test::replaced(b, "X-Binary-Element-Type: \"signed 32-bit integer\"\r\n", "");
  b = test::replaced(b, "X-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\n", "");
  b = test::replaced(b, "X-Binary-Number-of-Elements: 301453\r\n", "");
  const auto v = cbf::parse(b, "variant.cbf");
  CHECK(v.binary.conversions == "x-CBF_BYTE_OFFSET");
  CHECK(v.binary.width == 487);
  CHECK(v.binary.element_type == byte_offset::ElementType::i32);
  CHECK(v.binary.n_elements == 487 * 619);
  CHECK(cbf::check_md5(v) == cbf::Md5Status::ok);
}

TEST_CASE("a lone CR ends a header line too, so no parsed value holds a line break (found by fuzz_cbf)") {
  auto b = real("pilatus3x2m_lab6_300_00_0001p.cbf");
  b = test::replaced(b, "# Filter 0", "# Filter 0\r# Comment lone CR");
  const auto v = cbf::parse(b, "cr.cbf");
  CHECK(v.header.other.at("Filter") == "0");
  CHECK(v.header.other.at("Comment") == "lone CR");
  for (auto& [k, val] : v.header.other) CHECK(val.find_first_of("\r\n") == std::string::npos);
  // What we read, we can write (the writer refuses values with line breaks).
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, px);
  std::vector<uint8_t> out, scratch;
  CHECK_NOTHROW(cbf::write_to(out, px, v.binary.width, v.binary.height, v.header, scratch));
}
