// Detector presets and `dataset synth --detector`: every preset's layout adds up (modules and gaps fill the shape),
// the shapes are pyFAI's (the peer's detector definitions), and a synthesized dataset has the preset's shape and
// gaps, read back by our reader and by fabio (the peer), equal to the generator's frame.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "datasets/cbf.hpp"
#include "datasets/detectors.hpp"
#include "datasets/poni.hpp"
#include "datasets/synth.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

TEST_CASE("detector presets: modules and gaps fill the shape; shapes and rates as documented") {
  REQUIRE(detectors::all().size() >= 7);
  for (auto& d : detectors::all()) {
    INFO(d.name);
    CHECK(d.width == d.module_cols * d.module_w + (d.module_cols - 1) * d.gap_x);
    CHECK(d.height == d.module_rows * d.module_h + (d.module_rows - 1) * d.gap_y);
    CHECK(d.frame_rate_hz > 0);
    CHECK(d.bit_depth >= 12);
    CHECK(!d.source.empty());
    CHECK(d.pixel_size_m > 0);
    // The last column and row are module pixels, the first gap column follows the first module.
    CHECK_FALSE(d.gap_column(d.width - 1));
    CHECK_FALSE(d.gap_row(d.height - 1));
    CHECK(d.gap_column(d.module_w));
    CHECK(d.gap_row(d.module_h));
  }
  // pyFAI's MAX_SHAPE (slow, fast) of the same detectors (pyFAI/detectors/_dectris.py, _psi.py).
  const std::vector<std::tuple<const char*, size_t, size_t, double>> pyfai = {
      {"pilatus3-2m", 1679, 1475, 172e-6}, {"pilatus4-2m", 1630, 1553, 150e-6}, {"pilatus4-4m", 2180, 2073, 150e-6},
      {"eiger2-4m", 2162, 2068, 75e-6},    {"eiger2-9m", 3262, 3108, 75e-6},    {"eiger2-16m", 4362, 4148, 75e-6},
      {"jungfrau-4m", 2164, 2068, 75e-6}};
  for (auto& [name, h, w, px] : pyfai) {
    INFO(name);
    const auto& d = detectors::find(name);
    CHECK(d.height == h);
    CHECK(d.width == w);
    CHECK(d.pixel_size_m == px);
  }
  CHECK(detectors::find("pilatus3-2m").frame_rate_hz == 250);  // the paper's
  CHECK(detectors::find("pilatus3-2m").gap_pixels() == synth::kGapPixels);
  CHECK(detectors::find("EIGER2_4M").name == "eiger2-4m");
  CHECK_THROWS_WITH(detectors::find("pilatus9"), Catch::Contains("unknown detector 'pilatus9'") &&
                                                     Catch::Contains("eiger2-16m") && Catch::Contains("jungfrau-4m"));
}

TEST_CASE("dataset synth --detector jungfrau-4m: the preset's shape and gaps, read back by us and by fabio") {
  const auto dir = test::temp_dir("rt_synth_jf");
  auto r = test::run_xrdbench("dataset synth --detector jungfrau-4m --frames 1 -j 2 --out " + dir.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto& d = detectors::find("jungfrau-4m");
  const cbf::Image img = cbf::read_image(dir / "frame_00000.cbf", true);
  REQUIRE(img.width == d.width);
  REQUIRE(img.height == d.height);
  size_t gaps = 0, wrong = 0;
  for (size_t y = 0; y < d.height; ++y)
    for (size_t x = 0; x < d.width; ++x) {
      const bool gap = d.gap_column(x) || d.gap_row(y);
      const int32_t v = img.pixels[y * d.width + x];
      gaps += gap;
      wrong += gap != (v == synth::kGapValue);
    }
  CHECK(gaps == d.gap_pixels());
  CHECK(wrong == 0);
  // The generator's own frame for the same parameters: the file holds exactly it.
  synth::Params p = synth::for_detector(d);
  p.frames = 1;
  CHECK(synth::Generator(p, 2).frame(0) == img.pixels);
  const cbf::Image mask = cbf::read_image(dir / "mask.cbf");
  size_t mask_gaps = 0;
  for (int32_t v : mask.pixels) mask_gaps += v == synth::kMaskGap;
  CHECK(mask_gaps == d.gap_pixels());
  const auto g = poni::read(dir / "geometry.poni");
  CHECK(g.pixel1 == Approx(75e-6));
  CHECK(g.poni1 > 0);
  CHECK(g.poni1 < double(d.height) * 75e-6);

  // fabio, the peer, reads the same shape and the same number of gap pixels.
  const auto py = dir / "read.py";
  std::ofstream(py) << "import sys, fabio\nd = fabio.open(sys.argv[1]).data\n"
                       "print(d.shape[0], d.shape[1], int((d == -1).sum()), int(d.max()))\n";
  FILE* f = ::popen(("/usr/bin/python3 " + py.string() + " " + (dir / "frame_00000.cbf").string()).c_str(), "r");
  REQUIRE(f);
  unsigned long h = 0, w = 0, n = 0;
  long mx = 0;
  REQUIRE(std::fscanf(f, "%lu %lu %lu %ld", &h, &w, &n, &mx) == 4);
  ::pclose(f);
  CHECK(h == d.height);
  CHECK(w == d.width);
  CHECK(n == d.gap_pixels());
  CHECK(mx == *std::max_element(img.pixels.begin(), img.pixels.end()));
  std::filesystem::remove_all(dir);
}

TEST_CASE("dataset synth --detector pilatus3-2m writes the default dataset; an unknown detector is refused") {
  const auto dir = test::temp_dir("rt_synth_p3");
  auto a = test::run_xrdbench("dataset synth --detector pilatus3-2m --frames 1 -j 2 --out " + (dir / "a").string());
  auto b = test::run_xrdbench("dataset synth --frames 1 -j 2 --out " + (dir / "b").string());
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  CHECK(test::read_bytes(dir / "a" / "frame_00000.cbf") == test::read_bytes(dir / "b" / "frame_00000.cbf"));
  CHECK(test::read_bytes(dir / "a" / "mask.cbf") == test::read_bytes(dir / "b" / "mask.cbf"));
  auto bad = test::run_xrdbench("dataset synth --detector pilatus9 --frames 1 --out " + (dir / "c").string());
  CHECK(bad.status == 2);
  CHECK_THAT(bad.output, Catch::Contains("unknown detector 'pilatus9'") && Catch::Contains("eiger2-4m"));
  CHECK_FALSE(std::filesystem::exists(dir / "c" / "frame_00000.cbf"));
  std::filesystem::remove_all(dir);
}
