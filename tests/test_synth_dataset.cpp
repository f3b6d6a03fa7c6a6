// `xrdbench dataset synth` datasets: identical bytes whatever the thread count, manifest MD5s that match the files,
// mask.cbf that agrees with the frames' gaps and defects, sizes like real frames, arguments refused clearly.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "datasets/cbf.hpp"
#include "datasets/manifest.hpp"
#include "datasets/poni.hpp"
#include "datasets/synth_dataset.hpp"
#include "kernels/md5.hpp"
#include "tests/test_support.hpp"

using namespace xrd::synth;
namespace fs = std::filesystem;

namespace {

struct Datasets {
  fs::path root, one, two, other;
  Datasets() {
    root = xrd::test::temp_dir("synth_dataset");
    Params p;
    p.frames = 2;
    one = root / "t1";
    two = root / "t2";
    other = root / "seed2";
    write_dataset(p, {one, 1, {}, "test"});
    write_dataset(p, {two, 2, {}, "test"});
    p.seed = 99;
    write_dataset(p, {other, 2, {}, "test"});
  }
  ~Datasets() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

// Made once per test process (each TEST_CASE runs in its own process under ctest).
const Datasets& data() {
  static const Datasets d;
  return d;
}

}  // namespace

TEST_CASE("same seed: identical bytes with 1 and 2 threads; another seed: different frames") {
  const auto& d = data();
  for (const char* name : {"frame_00000.cbf", "frame_00001.cbf", "mask.cbf", "geometry.poni"}) {
    INFO(name);
    CHECK(xrd::test::read_bytes(d.one / name) == xrd::test::read_bytes(d.two / name));
  }
  CHECK(xrd::test::read_bytes(d.one / "frame_00000.cbf") != xrd::test::read_bytes(d.other / "frame_00000.cbf"));
  CHECK(xrd::test::read_bytes(d.one / "frame_00001.cbf") != xrd::test::read_bytes(d.other / "frame_00001.cbf"));
  // The two frames of one dataset differ too.
  CHECK(xrd::test::read_bytes(d.one / "frame_00000.cbf") != xrd::test::read_bytes(d.one / "frame_00001.cbf"));
}

TEST_CASE("manifest.json lists every file with its size and the MD5 of its bytes") {
  const auto& d = data();
  const auto m = xrd::manifest::read(d.one / "manifest.json");
  CHECK(m.format == "xrdbench-dataset/1");
  CHECK(m.generator == kGeneratorName);
  CHECK(m.generator_version == kGeneratorVersion);
  CHECK(m.seed == 1234);
  CHECK(m.frames == 2);
  CHECK(m.width == 1475);
  CHECK(m.height == 1679);
  REQUIRE(m.files.size() == 2);
  uint64_t total = 0;
  for (size_t i = 0; i < m.files.size(); ++i) {
    const auto& f = m.files[i];
    CHECK(f.name == frame_name(i));
    const auto bytes = xrd::test::read_bytes(d.one / f.name);
    CHECK(f.size == bytes.size());
    CHECK(f.md5 == xrd::to_hex(xrd::md5(bytes)));
    total += f.size;
    // ~2.5 MB per frame: the paper's ~4x compression of 9.9 MB of int32.
    CHECK(f.size > 2'400'000);
    CHECK(f.size < 2'700'000);
    CHECK(f.extra.at("frame") == i);
    CHECK(f.extra.at("fractions").size() == 3);
  }
  CHECK(m.total_bytes == total);
  CHECK(m.geometry.name == "geometry.poni");
  CHECK(m.geometry.md5 == xrd::to_hex(xrd::md5(xrd::test::read_bytes(d.one / "geometry.poni"))));
  CHECK(m.mask.md5 == xrd::to_hex(xrd::md5(xrd::test::read_bytes(d.one / "mask.cbf"))));
  CHECK(m.phases.size() == 3);
  CHECK(m.parameters.at("distance_m") == 0.35);
  CHECK(xrd::manifest::verify(d.one, m).empty());

  // A changed byte is found.
  const fs::path copy = d.root / "tampered";
  fs::create_directories(copy);
  for (auto& e : fs::directory_iterator(d.one)) fs::copy_file(e.path(), copy / e.path().filename());
  {
    std::fstream f(copy / "frame_00001.cbf", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put('\x55');
  }
  const auto problems = xrd::manifest::verify(copy, m);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("frame_00001.cbf: MD5") == 0);
}

TEST_CASE("mask.cbf agrees with the gap layout and with the frames' -1 and -2 pixels") {
  const auto& d = data();
  const auto mask = xrd::cbf::read_image(d.one / "mask.cbf", true);
  REQUIRE(mask.width == kWidth);
  REQUIRE(mask.height == kHeight);
  const auto frame = xrd::cbf::read_image(d.one / "frame_00001.cbf", true);
  REQUIRE(frame.pixels.size() == kPixels);
  size_t gaps = 0, masked = 0, dead = 0, hot = 0;
  for (size_t k = 0; k < kPixels; ++k) {
    const int32_t mv = mask.pixels[k], v = frame.pixels[k];
    const bool gap = is_gap(k % kWidth, k / kWidth);
    if ((mv == kMaskGap) != gap) FAIL("mask/gap disagree at pixel " << k);
    if ((v == -1) != gap) FAIL("frame -1 / gap disagree at pixel " << k);
    if ((v == -2) != (mv == kMaskDead)) FAIL("frame -2 / dead disagree at pixel " << k);
    if ((v > (1 << 20)) != (mv == kMaskHot)) FAIL("hot pixel / mask disagree at pixel " << k);
    gaps += gap;
    masked += mv != 0;
    dead += mv == kMaskDead;
    hot += mv == kMaskHot;
  }
  CHECK(gaps == 1475u * 1679u - 24u * 487u * 195u);
  CHECK(dead == 25);
  CHECK(hot == 40);
  CHECK(masked == gaps + dead + hot);
  // The frame's header carries what a Pilatus writes.
  std::vector<uint8_t> buf;
  xrd::cbf::read_file(d.one / "frame_00001.cbf", buf);
  const auto v = xrd::cbf::parse(buf, "frame_00001.cbf");
  CHECK(xrd::cbf::check_md5(v) == xrd::cbf::Md5Status::ok);
  CHECK(v.header.wavelength_A == Approx(0.7));
  CHECK(v.header.detector_distance_m == Approx(0.35));
  CHECK(v.header.timestamp == "2017-03-15T12:00:00.004");
}

TEST_CASE("geometry.poni reads back with the project's PONI reader") {
  const auto g = xrd::poni::read(data().one / "geometry.poni");
  const Params p;
  CHECK(g.dist == p.distance);
  CHECK(g.poni1 == p.poni1);
  CHECK(g.poni2 == p.poni2);
  CHECK(g.rot1 == p.rot1);
  CHECK(g.rot2 == p.rot2);
  CHECK(g.rot3 == p.rot3);
  CHECK(g.wavelength == p.wavelength);
  CHECK(g.pixel1 == Approx(172e-6));
  CHECK(g.pixel2 == Approx(172e-6));
}

TEST_CASE("xrdbench dataset synth refuses bad arguments clearly") {
  const auto dir = xrd::test::temp_dir("synth_cli");
  auto r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "a").string() + " --frames 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--frames must be at least 1") != std::string::npos);
  r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "a").string() + " --frames 2 --threads 0");
  CHECK(r.status == 2);
  CHECK(r.output.find("--threads must be between 1") != std::string::npos);
  r = xrd::test::run_xrdbench("dataset synth --frames 2");
  CHECK(r.status == 2);
  CHECK(r.output.find("--out DIR is required") != std::string::npos);
  r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "a").string());
  CHECK(r.status == 2);
  CHECK(r.output.find("--frames N is required") != std::string::npos);
  r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "a").string() + " --frames two");
  CHECK(r.status == 2);
  // A folder below a regular file cannot be created (root ignores permissions, this it cannot ignore).
  xrd::test::write_bytes(dir / "file", {1, 2, 3});
  r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "file" / "sub").string() + " --frames 1");
  CHECK(r.status == 1);
  CHECK(r.output.find("cannot create the output folder") != std::string::npos);
  r = xrd::test::run_xrdbench("dataset synth --help");
  CHECK(r.status == 0);
  CHECK(r.output.find("--frames") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "a"));
  fs::remove_all(dir);
}

TEST_CASE("xrdbench dataset synth writes a dataset that dataset verify accepts") {
  const auto dir = xrd::test::temp_dir("synth_cli_ok");
  auto r = xrd::test::run_xrdbench("dataset synth --out " + (dir / "ds").string() + " --frames 1 --threads 2 --seed 7");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("wrote 1 frames") != std::string::npos);
  for (const char* f : {"frame_00000.cbf", "geometry.poni", "mask.cbf", "manifest.json"}) CHECK(fs::exists(dir / "ds" / f));
  r = xrd::test::run_xrdbench("dataset verify " + (dir / "ds").string());
  CHECK(r.status == 0);
  CHECK(r.output.find("0 problem(s)") != std::string::npos);
  fs::remove_all(dir);
}
