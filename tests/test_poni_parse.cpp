// PONI files: versions 1 and 2, several calibration blocks (the last counts), comments, bad input.
#include <catch2/catch.hpp>

#include "datasets/poni.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

using xrd::poni::parse;

TEST_CASE("PONI version 2 with Detector_config (the real fixture)") {
  const auto g = xrd::poni::read(xrd::test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.poni");
  CHECK(g.dist == 0.43905087123459974);
  CHECK(g.poni1 == 0.28501772354664623);
  CHECK(g.poni2 == 0.12399873806971327);
  CHECK(g.rot1 == 0.00032468288941448994);
  CHECK(g.rot2 == 0.0012829850664304251);
  CHECK(g.rot3 == 4.315099361898733e-06);
  CHECK(g.wavelength == 6.94369802997835e-11);
  CHECK(g.pixel1 == 0.00017199999999999998);
  CHECK(g.pixel2 == 0.00017199999999999998);
  CHECK(g.detector == "Detector");
}

TEST_CASE("PONI version 1 with PixelSize1/2, keys in any case, CRLF line ends") {
  const auto g = parse(
      "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\r\n"
      "PixelSize1: 7.5e-05\r\nPixelSize2: 8e-05\r\n"
      "DISTANCE: 0.2\r\nponi1: 0.01\r\nPoni2: 0.02\r\nRot1: 0.1\r\nRot2: -0.2\r\nRot3: 0.3\r\n"
      "Wavelength: 1e-10\r\n");
  CHECK(g.pixel1 == 7.5e-05);
  CHECK(g.pixel2 == 8e-05);
  CHECK(g.dist == 0.2);
  CHECK(g.poni1 == 0.01);
  CHECK(g.poni2 == 0.02);
  CHECK(g.rot1 == 0.1);
  CHECK(g.rot2 == -0.2);
  CHECK(g.rot3 == 0.3);
  CHECK(g.wavelength == 1e-10);
}

TEST_CASE("PONI: several calibration blocks, the last one counts (as pyFAI)") {
  const auto g = parse(
      "# Calibration done at Mon\nponi_version: 2\nDetector: Pilatus2M\nDetector_config: {}\n"
      "Distance: 0.1\nPoni1: 0.1\nPoni2: 0.1\nRot1: 0.1\nWavelength: 1e-10\n"
      "# Calibration done at Tue\nponi_version: 2\nDetector: Detector\n"
      "Detector_config: {\"pixel1\": 1e-4, \"pixel2\": 2e-4, \"max_shape\": [10, 20]}\n"
      "Distance: 0.3\nPoni1: 0.01\nPoni2: 0.02\nRot1: 0\nWavelength: 2e-10\n");
  CHECK(g.dist == 0.3);
  CHECK(g.poni1 == 0.01);
  CHECK(g.poni2 == 0.02);
  CHECK(g.rot1 == 0.0);
  CHECK(g.wavelength == 2e-10);
  CHECK(g.pixel1 == 1e-4);
  CHECK(g.pixel2 == 2e-4);
}

TEST_CASE(
    "PONI: a named Pilatus or Eiger detector without pixel sizes gets its own; rotations default to 0") {
  const auto p =
      parse("poni_version: 2\nDetector: Pilatus2M\nDetector_config: {}\nDistance: 0.1\nPoni1: 0\nPoni2: 0\n");
  CHECK(p.pixel1 == 172e-6);
  CHECK(p.pixel2 == 172e-6);
  CHECK(p.rot1 == 0.0);
  CHECK(p.wavelength == 0.0);
  const auto e = parse("Detector: Eiger4M\nDistance: 0.1\nPoni1: 0\nPoni2: 0\n");
  CHECK(e.pixel1 == 75e-6);
}

TEST_CASE("PONI: format() writes a version 2 file that parses back to the same geometry") {
  xrd::integration::Geometry g;
  g.dist = 0.123456789012345;
  g.poni1 = 0.1;
  g.poni2 = 0.2;
  g.rot1 = 1e-3;
  g.rot2 = -2e-3;
  g.rot3 = 3e-6;
  g.wavelength = 7e-11;
  g.pixel1 = 75e-6;
  g.pixel2 = 76e-6;
  const auto h = parse(xrd::poni::format(g));
  CHECK(h.dist == g.dist);
  CHECK(h.poni1 == g.poni1);
  CHECK(h.poni2 == g.poni2);
  CHECK(h.rot1 == g.rot1);
  CHECK(h.rot2 == g.rot2);
  CHECK(h.rot3 == g.rot3);
  CHECK(h.wavelength == g.wavelength);
  CHECK(h.pixel1 == g.pixel1);
  CHECK(h.pixel2 == g.pixel2);
}

TEST_CASE("PONI: bad input is an error naming the file, the line and what was expected") {
  auto message = [](const std::string& text) {
    try {
      parse(text, "bad.poni");
    } catch (const xrd::Error& e) {
      CHECK(e.file() == "bad.poni");
      return std::string(e.what());
    }
    FAIL("no error for: " << text);
    return std::string();
  };
  const std::string ok = "PixelSize1: 1e-4\nPixelSize2: 1e-4\n";
  CHECK_THAT(message(ok + "Distance: 0.1\nPoni1: 0.1\n"), Catch::Contains("'poni2'"));
  CHECK_THAT(message(ok + "Distance: abc\nPoni1: 0.1\nPoni2: 0\n"),
             Catch::Contains("line 3") && Catch::Contains("expected a number, got 'abc'"));
  CHECK_THAT(message(ok + "Distance: 0.1 m\nPoni1: 0.1\nPoni2: 0\n"), Catch::Contains("expected a number"));
  CHECK_THAT(message(ok + "Distance: -1\nPoni1: 0.1\nPoni2: 0\n"), Catch::Contains("positive"));
  // Found by fuzz_poni: a negative wavelength was accepted (and then dropped by format()).
  CHECK_THAT(message(ok + "Distance: 0.1\nPoni1: 0.1\nPoni2: 0\nWavelength: -10\n"),
             Catch::Contains("line 6") && Catch::Contains("Wavelength must be positive"));
  CHECK_THAT(message(ok + "Distance: 0.1\nPoni1: 0.1\nPoni2: 0\nWavelength: 0\n"), Catch::Contains("Wavelength"));
  CHECK_THAT(message("Distance: 0.1\nPoni1: 0.1\nPoni2: 0\n"), Catch::Contains("no pixel size"));
  CHECK_THAT(message("poni_version: 3\nDistance: 0.1\nPoni1: 0.1\nPoni2: 0\n"),
             Catch::Contains("not supported"));
  CHECK_THAT(
      message("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": \nDistance: 0.1\nPoni1: 0\n"
              "Poni2: 0\n"),
      Catch::Contains("line 3") && Catch::Contains("invalid JSON"));
  CHECK_THAT(
      message("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": \"big\", \"pixel2\": 1}\n"
              "Distance: 0.1\nPoni1: 0\nPoni2: 0\n"),
      Catch::Contains("pixel1 is not a number"));
  CHECK_THROWS_AS(xrd::poni::read("/no/such/file.poni"), xrd::Error);
}
