// PONI versions 2 and 2.1 as pyFAI >= 2024 writes them (Detector_config with orientation), pyFAI's detector names
// for the presets, and what xrdbench refuses rather than ignores (issue 13; issue 10's unknown detector).
#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/detectors.hpp"
#include "datasets/poni.hpp"
#include "datasets/poni_detectors.hpp"
#include "base/error.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

using xrd::poni::parse;

namespace {
const std::string kPos = "Distance: 0.1\nPoni1: 0.01\nPoni2: 0.02\nRot1: 0\nRot2: 0\nRot3: 0\nWavelength: 1e-10\n";

std::string error_of(const std::string& text) {
  try {
    parse(text, "x.poni");
  } catch (const xrd::Error& e) {
    CHECK(e.file() == "x.poni");
    return e.what();
  }
  FAIL("no error for: " << text);
  return "";
}
}  // namespace

TEST_CASE("PONI 2.1: pyFAI's file for a Pilatus2M with orientation 2 (pyFAI 2024 writes this)") {
  // As pyFAI's PoniFile.write writes it: Pilatus.get_config() holds only the orientation.
  const auto g = parse("# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n"
                       "# Calibration done on Tue Jun  4 10:00:00 2024\n"
                       "poni_version: 2.1\nDetector: Pilatus2M\nDetector_config: {\"orientation\": 2}\n" +
                       kPos);
  CHECK(g.orientation == 2);
  CHECK(g.pixel1 == 172e-6);
  CHECK(g.pixel2 == 172e-6);
  CHECK(g.detector_height == 1679);
  CHECK(g.detector_width == 1475);
  CHECK(g.detector == "Pilatus2M");
}

TEST_CASE("PONI: a generic Detector in 2.1 (pixel1, pixel2, max_shape, orientation, splineFile null)") {
  const auto g = parse(
      "poni_version: 2.1\nDetector: Detector\nDetector_config: {\"pixel1\": 7.5e-05, \"pixel2\": 8e-05, "
      "\"max_shape\": [100, 200], \"orientation\": 4, \"splineFile\": null}\n" +
      kPos);
  CHECK(g.orientation == 4);
  CHECK(g.pixel1 == 7.5e-05);
  CHECK(g.pixel2 == 8e-05);
  CHECK(g.detector_height == 100);
  CHECK(g.detector_width == 200);
}

TEST_CASE("PONI: version 2 with an orientation is read as 2.1 (as pyFAI does), not ignored") {
  const auto g = parse("poni_version: 2\nDetector: Eiger2_4M\nDetector_config: {\"orientation\": 1}\n" + kPos);
  CHECK(g.orientation == 1);
  // Orientation 0 (pyFAI's "unspecified") and no orientation are pyFAI's default, 3.
  CHECK(parse("poni_version: 2.1\nDetector: Eiger4M\nDetector_config: {\"orientation\": 0}\n" + kPos).orientation ==
        3);
  CHECK(parse("poni_version: 2\nDetector: Eiger4M\nDetector_config: {}\n" + kPos).orientation == 3);
}

TEST_CASE("PONI: pyFAI's names for the presets, class names and aliases, any case") {
  struct Case {
    const char* name;
    double pixel;
    size_t h, w;
  };
  for (const Case& c : {Case{"Pilatus1M", 172e-6, 1043, 981}, Case{"Pilatus 2M", 172e-6, 1679, 1475},
                        Case{"pilatus6m", 172e-6, 2527, 2463}, Case{"Pilatus4 2M", 150e-6, 1630, 1553},
                        Case{"Pilatus4_4M", 150e-6, 2180, 2073}, Case{"Eiger 4M", 75e-6, 2167, 2070},
                        Case{"Eiger9M", 75e-6, 3269, 3110}, Case{"EIGER16M", 75e-6, 4371, 4150},
                        Case{"Eiger2 4M", 75e-6, 2162, 2068}, Case{"Eiger2_9M", 75e-6, 3262, 3108},
                        Case{"eiger2 16m", 75e-6, 4362, 4148}, Case{"Jungfrau 4M", 75e-6, 2164, 2068},
                        Case{"Pilatus2M", 172e-6, 1679, 1475}}) {
    INFO(c.name);
    for (const std::string& head : {std::string("poni_version: 2.1\nDetector_config: {\"orientation\": 3}\n"),
                                   std::string("poni_version: 1\n")}) {
      const auto g = parse(head + "Detector: " + c.name + "\n" + kPos);
      CHECK(g.pixel1 == c.pixel);
      CHECK(g.pixel2 == c.pixel);
      CHECK(g.detector_height == c.h);
      CHECK(g.detector_width == c.w);
    }
  }
  // Version 1: PixelSize1/2 both given override a named detector's (pyFAI builds the class with them).
  const auto v1 = parse("Detector: Pilatus2M\nPixelSize1: 1e-4\nPixelSize2: 2e-4\n" + kPos);
  CHECK(v1.pixel1 == 1e-4);
  CHECK(v1.pixel2 == 2e-4);
}

TEST_CASE("PONI: an unknown detector name is an error naming the line and the names xrdbench knows (issue 10)") {
  const std::string m = error_of("poni_version: 2\nDetector: Perkin\nDetector_config: {}\n" + kPos);
  CHECK_THAT(m, Catch::Contains("line 2") && Catch::Contains("Detector 'Perkin' is not a detector xrdbench knows") &&
                    Catch::Contains("Pilatus2M") && Catch::Contains("Eiger2_16M") && Catch::Contains("Jungfrau4M"));
  // Version 1 too; and a detector pyFAI has but xrdbench does not support is refused, not guessed from its name.
  CHECK_THAT(error_of("Detector: Pilatus300k\n" + kPos), Catch::Contains("'Pilatus300k' is not a detector"));
  CHECK_THAT(error_of("Detector: PILATUS3 2M, S/N 24-0111\n" + kPos), Catch::Contains("is not a detector"));
}

TEST_CASE("PONI: what cannot be honoured is refused with the line and the reason") {
  CHECK_THAT(error_of("poni_version: 2.1\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": "
                      "1e-4, \"orientation\": 5}\n" +
                      kPos),
             Catch::Contains("line 3") && Catch::Contains("orientation 5 is not one of pyFAI's"));
  CHECK_THAT(error_of("poni_version: 2.1\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": "
                      "1e-4, \"orientation\": \"TopLeft\"}\n" +
                      kPos),
             Catch::Contains("orientation \"TopLeft\""));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, "
                      "\"splineFile\": \"distortion.spline\"}\n" +
                      kPos),
             Catch::Contains("splineFile \"distortion.spline\" cannot be honoured"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Pilatus2M\nDetector_config: {\"x_offset_file\": \"dx.edf\", "
                      "\"y_offset_file\": \"dy.edf\"}\n" +
                      kPos),
             Catch::Contains("x_offset_file") && Catch::Contains("cannot be honoured"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, "
                      "\"binning\": [2, 2]}\n" +
                      kPos),
             Catch::Contains("key 'binning' is not supported"));
  CHECK_THAT(error_of("Detector: Detector\nPixelSize1: 1e-4\nPixelSize2: 1e-4\nSplineFile: /data/d.spline\n" + kPos),
             Catch::Contains("line 4") && Catch::Contains("SplineFile /data/d.spline cannot be honoured"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Pilatus2M\nDetector_config: {\"pixel1\": 1e-4}\n" + kPos),
             Catch::Contains("pixel1") && Catch::Contains("differs from Pilatus2M's"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, "
                      "\"max_shape\": [10]}\n" +
                      kPos),
             Catch::Contains("max_shape [10] is not [rows, columns]"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Detector\n" + kPos), Catch::Contains("needs a Detector_config"));
  CHECK_THAT(error_of("poni_version: 2.2\nDetector: Detector\n" + kPos),
             Catch::Contains("poni_version 2.2 is not supported (expected 1, 2 or 2.1)"));
  CHECK_THAT(error_of("poni_version: 2\nDetector: Detector\nDetector_config: [1, 2]\n" + kPos),
             Catch::Contains("expected a JSON object"));
}

TEST_CASE("PONI: format() writes 2.1 with the orientation when it is not 3, and it parses back") {
  auto g = parse("poni_version: 2.1\nDetector: Pilatus2M\nDetector_config: {\"orientation\": 1}\n" + kPos);
  const std::string text = xrd::poni::format(g);
  CHECK_THAT(text, Catch::Contains("poni_version: 2.1") && Catch::Contains("\"orientation\": 1") &&
                       Catch::Contains("\"max_shape\": [1679, 1475]"));
  const auto h = parse(text);
  CHECK(h.orientation == 1);
  CHECK(h.pixel1 == g.pixel1);
  CHECK(h.detector_height == 1679);
  CHECK(h.detector_width == 1475);
  g.orientation = 3;
  CHECK_THAT(xrd::poni::format(g), Catch::Contains("poni_version: 2\n") && !Catch::Contains("orientation"));
}

TEST_CASE("xrdbench integrate: an unknown detector or frames of another shape than the named detector's are "
          "refused with the file and the reason (issue 10)") {
  const auto dir = xrd::test::temp_dir("poni_cli");
  std::vector<int32_t> frame(5 * 7, 10);
  xrd::cbf::write(dir / "f.cbf", frame, 5, 7);
  auto integrate = [&](const std::string& poni_text) {
    std::ofstream(dir / "g.poni") << poni_text;
    return xrd::test::run_xrdbench("integrate --poni \"" + (dir / "g.poni").string() + "\" --bins 4 --out \"" +
                                   (dir / "p.csv").string() + "\" \"" + (dir / "f.cbf").string() + "\"");
  };
  const auto unknown = integrate("poni_version: 2\nDetector: Perkin\nDetector_config: {}\n" + kPos);
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.output, Catch::Contains("g.poni: line 2: Detector 'Perkin' is not a detector xrdbench knows"));
  const auto shape = integrate("poni_version: 2.1\nDetector: Pilatus2M\nDetector_config: {\"orientation\": 2}\n" +
                               kPos);
  CHECK(shape.status != 0);
  CHECK_THAT(shape.output, Catch::Contains("g.poni") && Catch::Contains("the detector has 1679 rows, the image 7"));
  // A generic detector with an orientation integrates (and differs from orientation 3 only in the pixel order).
  const auto ok = integrate("poni_version: 2.1\nDetector: Detector\nDetector_config: {\"pixel1\": 1e-4, "
                            "\"pixel2\": 1e-4, \"orientation\": 1}\n" + kPos);
  INFO(ok.output);
  CHECK(ok.status == 0);
  CHECK(xrd::test::read_csv(dir / "p.csv").size() == 4);
}

TEST_CASE("PONI names: each detector preset (datasets/detectors.hpp) has pyFAI's name with the same shape and pixel") {
  const std::pair<const char*, const char*> pyfai_name[] = {
      {"pilatus3-2m", "Pilatus2M"},   {"pilatus4-2m", "Pilatus4_2M"}, {"pilatus4-4m", "Pilatus4_4M"},
      {"eiger2-4m", "Eiger2_4M"},     {"eiger2-9m", "Eiger2_9M"},     {"eiger2-16m", "Eiger2_16M"},
      {"jungfrau-4m", "Jungfrau4M"}};
  size_t matched = 0;
  for (const auto& preset : xrd::detectors::all()) {
    INFO(preset.name);
    for (const auto& [ours, pyfai] : pyfai_name) {
      if (preset.name != ours) continue;
      const auto spec = xrd::poni::find_detector(pyfai);
      REQUIRE(spec);
      CHECK(spec->width == preset.width);
      CHECK(spec->height == preset.height);
      CHECK(spec->pixel1 == preset.pixel_size_m);
      ++matched;
    }
  }
  CHECK(matched == std::size(pyfai_name));
}
