// Masks, darks and flats from the files pyFAI users have, written by the tools that write them (fabio: EDF, TIFF,
// CBF; numpy: .npy; h5py: HDF5 FILE::/path) via tests/scripts/write_images.py, read back pixel for pixel; broken
// files give errors naming the file and what was expected; `xrdbench integrate` keeps float darks and flats.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/image_io.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "base/error.hpp"
#include "kernels/integrate.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;

namespace {

// Runs the Python writer once per test process (Debian's /usr/bin/python3 with fabio, numpy, h5py).
const nlohmann::json& written() {
  static const nlohmann::json manifest = [] {
    const fs::path dir = xrd::test::temp_dir("image_io");
    const std::string cmd = "/usr/bin/python3 \"" + std::string(XRD_SOURCE_DIR) + "/tests/scripts/write_images.py\" \"" +
                            dir.string() + "\"";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    std::ifstream f(dir / "manifest.json");
    return nlohmann::json::parse(f);
  }();
  return manifest;
}

std::vector<double> raw_doubles(const std::string& p) {
  const auto b = xrd::test::read_bytes(p);
  std::vector<double> v(b.size() / 8);
  std::memcpy(v.data(), b.data(), v.size() * 8);
  return v;
}

std::string q(const fs::path& p) {
  std::string s(1, '"');
  s += p.string();
  s += '"';
  return s;
}

}  // namespace

TEST_CASE("image_io: EDF, .npy, TIFF, HDF5 and CBF files written by fabio/numpy/h5py read back exactly") {
  const auto& m = written();
  REQUIRE(m["images"].size() >= 18);
  for (const auto& e : m["images"]) {
    const std::string spec = e["spec"];
    INFO(spec);
    const xrd::image_io::Image img = xrd::image_io::read(spec);
    CHECK(img.height == e["height"].get<size_t>());
    CHECK(img.width == e["width"].get<size_t>());
    const std::string type = e["type"];
    if (img.format != "CBF" && type != "bool") CHECK(img.type == type);
    const auto expected = raw_doubles(e["expected"]);
    REQUIRE(img.pixels.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) REQUIRE(img.pixels[i] == expected[i]);
  }
}

TEST_CASE("image_io: masks from every format equal (nonzero = masked), float flats stay fractional") {
  const auto& m = written();
  const fs::path dir = fs::path(m["images"][0]["spec"].get<std::string>()).parent_path();
  const auto ref = xrd::mask::read(dir / "mask.npy", 5, 7);
  CHECK(std::count(ref.begin(), ref.end(), 1) > 3);
  for (const std::string s : {"mask.edf", "mask_bool.npy", "mask.tif"}) CHECK(xrd::mask::read(dir / s, 5, 7) == ref);
  CHECK(xrd::mask::read((dir / "calib.h5").string() + "::/entry/mask", 5, 7) == ref);
  CHECK_THROWS_WITH(xrd::mask::read(dir / "mask.edf", 7, 5), Catch::Contains("mask is 5 x 7 pixels (EDF)"));
  const auto flat = xrd::image_io::read_float((dir / "flat32.npy").string(), 5, 7, "the flat image");
  const auto flat_h5 = xrd::image_io::read_float((dir / "calib.h5").string() + "::/entry/flat", 5, 7, "flat");
  CHECK(flat == flat_h5);
  CHECK(std::any_of(flat.begin(), flat.end(), [](float v) { return v != std::round(v); }));
  CHECK_THROWS_WITH(xrd::image_io::read_float((dir / "flat32.tif").string(), 4, 7, "the flat image"),
                    Catch::Contains("the flat image is 5 x 7 pixels (TIFF), the frames 4 x 7"));
}

TEST_CASE("image_io: broken files are errors naming the file and what was expected") {
  const auto& m = written();
  for (const auto& b : m["bad"]) {
    const std::string spec = b["spec"];
    INFO(spec);
    try {
      xrd::image_io::read(spec);
      FAIL("no error");
    } catch (const xrd::Error& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(b["message"].get<std::string>()));
      CHECK_THAT(std::string(e.what()), Catch::Contains(fs::path(xrd::image_io::parse_source(spec).file).filename().string()));
    }
  }
  CHECK_THROWS_AS(xrd::image_io::read("/no/such/mask.edf"), xrd::Error);
}

TEST_CASE("xrdbench integrate: float32/float64 darks and flats (EDF, .npy, HDF5) reach the corrections as floats") {
  const auto& m = written();
  const fs::path dir = xrd::test::temp_dir("integrate_float_dark");
  const size_t W = 5, H = 7;
  // A frame and a geometry of the same small shape.
  std::vector<int32_t> frame(W * H);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<int32_t>(100 + 7 * i);
  xrd::cbf::write(dir / "f.cbf", frame, W, H);
  xrd::integration::Geometry g;
  g.dist = 0.01, g.poni1 = 3e-4, g.poni2 = 2e-4, g.pixel1 = g.pixel2 = 1e-4, g.wavelength = 1e-10;
  {
    std::ofstream(dir / "g.poni") << xrd::poni::format(g);
  }
  const fs::path img = fs::path(m["images"][0]["spec"].get<std::string>()).parent_path();
  const std::string dark = (img / "dark64.npy").string(), flat = (img / "calib.h5").string() + "::/entry/flat";
  const auto r = xrd::test::run_xrdbench("integrate --poni " + q(dir / "g.poni") + " --bins 8 --unit r_mm --dark " +
                                         q(dark) + " --flat " + q(flat) + " --out " + q(dir / "p.csv") + " " +
                                         q(dir / "f.cbf"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto ours = xrd::test::read_csv(dir / "p.csv");
  // The same through the API with the float values; and different from the values rounded to integers.
  xrd::integration::Options opt;
  opt.bins = 8;
  opt.unit = xrd::integration::Unit::r_mm;
  const auto d = xrd::image_io::read_float(dark, W, H, "dark"), f = xrd::image_io::read_float(flat, W, H, "flat");
  xrd::integration::Pattern want, rounded;
  xrd::integration::integrate(xrd::integration::build_setup(g, {}, W, H, opt, d, f, 1), frame, want);
  std::vector<float> di(d.size()), fi(f.size());
  for (size_t i = 0; i < d.size(); ++i) di[i] = std::round(d[i]), fi[i] = std::round(f[i]);
  xrd::integration::integrate(xrd::integration::build_setup(g, {}, W, H, opt, di, fi, 1), frame, rounded);
  REQUIRE(ours.size() == want.radial.size());
  double off_rounded = 0;
  for (size_t b = 0; b < ours.size(); ++b) {
    if (want.count[b] == 0) continue;
    CHECK(xrd::test::rel_diff(ours[b][1], want.intensity[b]) <= 1e-8);
    off_rounded = std::max(off_rounded, xrd::test::rel_diff(ours[b][1], rounded.intensity[b]));
  }
  CHECK(off_rounded > 1e-3);
  // EDF dark and a mask from HDF5 work the same way; a dark of the wrong shape is refused naming the file.
  const auto r2 = xrd::test::run_xrdbench("integrate --poni " + q(dir / "g.poni") + " --bins 8 --dark " +
                                          q(img / "dark64.edf") + " --mask " + q((img / "calib.h5").string() + "::/entry/mask") +
                                          " --out " + q(dir / "p2.csv") + " " + q(dir / "f.cbf"));
  INFO(r2.output);
  CHECK(r2.status == 0);
  std::vector<int32_t> big(6 * 7, 1);
  xrd::cbf::write(dir / "big.cbf", big, 6, 7);
  const auto r3 = xrd::test::run_xrdbench("integrate --poni " + q(dir / "g.poni") + " --dark " + q(dark) +
                                          " --out " + q(dir / "p3.csv") + " " + q(dir / "big.cbf"));
  CHECK(r3.status != 0);
  CHECK_THAT(r3.output, Catch::Contains("dark64.npy") && Catch::Contains("the dark image is 5 x 7 pixels (NPY)"));
}

TEST_CASE("image_io: every truncation and byte flip of each file is read or refused with xrd::Error, never a crash") {
  const auto& m = written();
  const fs::path dir = xrd::test::temp_dir("image_io_corrupt");
  size_t refused = 0, tried = 0;
  for (const auto& e : m["images"]) {
    const auto src = xrd::image_io::parse_source(e["spec"].get<std::string>());
    const auto bytes = xrd::test::read_bytes(src.file);
    std::string suffix;
    if (!src.dataset.empty()) suffix.append("::").append(src.dataset);
    fs::path bad = dir / "x";
    bad.replace_extension(src.file.extension());
    auto attempt = [&](const std::vector<uint8_t>& b) {
      xrd::test::write_bytes(bad, b);
      ++tried;
      try {
        std::string spec = bad.string();
        spec.append(suffix);
        xrd::image_io::read(spec);
      } catch (const xrd::Error& err) {
        ++refused;
        CHECK_THAT(std::string(err.what()), Catch::Contains(bad.filename().string()));
      }
    };
    // About 200 truncations and 150 flips per file (HDF5 files are ~10 kB, the others < 1 kB).
    const size_t step = std::max<size_t>(1, bytes.size() / 200);
    const char* only = std::getenv("XRD_TEST_CORRUPT_ONLY");  // to isolate one kind when debugging
    if (!only || std::string(only) == "truncate")
      for (size_t n = 0; n < bytes.size(); n += step) attempt(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n));
    // Not HDF5: one flipped superblock byte makes HDF5 1.10.8 leak internally and exit with status 1 after
    // "infinite loop closing library" (our error is reported before; see datasets/image_hdf5.cpp).
    if ((!only || std::string(only) == "flip") && src.dataset.empty())
      for (size_t i = 0; i < std::min<size_t>(bytes.size(), 1024); i += 7) {
      auto b = bytes;
      b[i] ^= 0x5A;
      attempt(b);
    }
  }
  INFO(tried << " attempts, " << refused << " refused");
  CHECK(refused > tried / 2);
}
