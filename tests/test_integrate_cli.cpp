// `xrdbench integrate` end to end: CSV equal to pyFAI's pattern, HDF5 with several frames, bad input; mask
// files.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/mask.hpp"
#include "base/error.hpp"
#include "strategies/engines.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

using xrd::test::run_xrdbench;

namespace {

std::string q(const std::filesystem::path& p) {
  std::string s(1, '"');
  s += p.string();
  s += '"';
  return s;
}

const std::filesystem::path kFrame = xrd::test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
const std::filesystem::path kPoni = xrd::test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.poni";
const std::filesystem::path kMask = xrd::test::fixtures() / "pilatus2m_mask.cbf";

using xrd::test::read_csv;
using xrd::test::rel_diff;

}  // namespace

TEST_CASE("xrdbench integrate: CSV of the LaB6 frame equals pyFAI's (bbox, 2th_deg, 1000 bins)") {
  const auto dir = xrd::test::temp_dir("integrate_csv");
  const auto out = dir / "lab6.csv";
  const auto r = run_xrdbench("integrate --poni " + q(kPoni) + " --mask " + q(kMask) +
                              " --unit 2th_deg --split bbox --bins 1000 --out " + q(out) + " " + q(kFrame));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("1 frame") != std::string::npos);
  std::string header;
  const auto ours = read_csv(out, &header);
  CHECK(header == "2th_deg,intensity,sigma,count");  // the radial column named by its unit
  const auto ref = read_csv(xrd::test::fixtures() / "pyfai" / "lab6_300__bbox_csr_2th.csv");
  REQUIRE(ours.size() == ref.size());
  for (size_t b = 0; b < ref.size(); ++b) {
    REQUIRE(rel_diff(ours[b][0], ref[b][0]) <= 1e-6);
    if (ref[b][3] > 0.5) {
      REQUIRE(rel_diff(ours[b][1], ref[b][1]) <= 1e-3);
      REQUIRE(rel_diff(ours[b][2], ref[b][2]) <= 1e-3);
      REQUIRE(rel_diff(ours[b][3], ref[b][3]) <= 1e-3);
    }
  }
  // The reference engine writes the same pattern.
  const auto out2 = dir / "lab6_ref.csv";
  REQUIRE(run_xrdbench("integrate -q --engine reference --poni " + q(kPoni) + " --mask " + q(kMask) +
                       " --unit 2th_deg --out " + q(out2) + " " + q(kFrame))
              .status == 0);
  const auto ours2 = read_csv(out2);
  for (size_t b = 0; b < ref.size(); ++b)
    if (ref[b][3] > 0.5) REQUIRE(rel_diff(ours[b][1], ours2[b][1]) <= 1e-6);
}

TEST_CASE("xrdbench integrate: several frames to NeXus, a bad frame reported and skipped") {
  const auto dir = xrd::test::temp_dir("integrate_h5");
  const auto out = dir / "scan.h5";
  const auto small = xrd::test::fixtures() / "real" / "pilatus300k_in16c_010001.cbf";  // a 300k: wrong shape
  const auto r = run_xrdbench("integrate --poni " + q(kPoni) + " --mask " + q(kMask) +
                              " --bins 500 --unit q_A^-1 --polarization 0.99 --threads 2 --out " + q(out) +
                              " " + q(kFrame) + " " + q(small) + " " + q(kFrame));
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("pilatus300k_in16c_010001.cbf") != std::string::npos);
  CHECK(r.output.find("487 x 619") != std::string::npos);
  const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t d = H5Dopen2(f, "/entry/integrate/intensity", H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[2];
  H5Sget_simple_extent_dims(s, dims, nullptr);
  CHECK(dims[0] == 3);
  CHECK(dims[1] == 500);
  std::vector<double> v(dims[0] * dims[1]);
  REQUIRE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  double row0 = 0;
  bool row1_nan = true;
  for (size_t b = 0; b < 500; ++b) {
    row0 += v[b];
    row1_nan = row1_nan && std::isnan(v[500 + b]);
    CHECK(v[b] == v[1000 + b]);  // the same frame twice
  }
  CHECK(row0 > 0);
  CHECK(row1_nan);  // the failed frame's row: NaN (and valid 0), never a silent 0
  H5Sclose(s);
  H5Dclose(d);
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/radial", "units") == "1/angstrom");  // NeXus form
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/radial", "pyfai_unit") == "q_A^-1");
  H5Fclose(f);
}

namespace {
// An HDF5 dataset of /entry/integrate read as doubles (rows x bins, row-major).
std::vector<double> read_h5_doubles(const std::filesystem::path& file, const char* name) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t d = H5Dopen2(f, (std::string("/entry/integrate/") + name).c_str(), H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t sp = H5Dget_space(d);
  std::vector<double> v(static_cast<size_t>(H5Sget_simple_extent_npoints(sp)));
  REQUIRE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}
}  // namespace

TEST_CASE("xrdbench integrate: every CPU engine of the table writes the reference engine's patterns") {
  // The truth, in process: the scalar decoder and the plain CSR reference engine, 500 bins q_nm^-1, bbox, the mask,
  // polarization 0.99. Then `integrate --engine E --float64` of the frame twice (two frames through the pipeline),
  // read back: the reference and csr-parallel engines bit for bit, the others to double rounding.
  const auto image = xrd::test::read_reference_image(kFrame);
  xrd::integration::Options o;
  o.bins = 500;
  o.polarization = 0.99;
  const auto mask = xrd::mask::read(kMask, image.width, image.height);
  const auto setup = xrd::integration::build_setup(xrd::poni::read(kPoni), mask, image.width, image.height, o);
  xrd::integration::Pattern ref;
  xrd::integration::integrate(setup, image.pixels, ref);
  const auto dir = xrd::test::temp_dir("integrate_engines");
  size_t tested = 0;
  for (const auto& e : xrd::strategies::engines()) {
    if (e.needs_device) continue;  // opencl: test_ocl_cli.cpp
    for (const std::string variant : e.variants.empty() ? std::vector<std::string>{""}
                                                        : std::vector<std::string>{"", ":gather", ":scalar"}) {
      const std::string spec = e.name + variant;
      INFO("engine " << spec);
      const auto out = dir / ("engine_" + e.name + std::to_string(variant.size()) + ".h5");
      const auto r = run_xrdbench("integrate --engine " + spec + " --float64 --bins 500 --polarization 0.99 --poni " +
                                  q(kPoni) + " --mask " + q(kMask) + " --out " + q(out) + " " + q(kFrame) + " " +
                                  q(kFrame));
      INFO(r.output);
      REQUIRE(r.status == 0);
      CHECK(r.output.find(e.name + (variant == ":scalar" ? " (scalar) engine" : "")) != std::string::npos);
      const auto intensity = read_h5_doubles(out, "intensity"), sigma = read_h5_doubles(out, "sigma"),
                 count = read_h5_doubles(out, "count");
      REQUIRE(intensity.size() == 2 * 500);
      const bool exact = e.name == "reference" || e.name == "csr-parallel";
      for (size_t k = 0; k < intensity.size(); ++k) {
        const size_t b = k % 500;
        if (exact) {
          REQUIRE(intensity[k] == ref.intensity[b]);
          REQUIRE(sigma[k] == ref.sigma[b]);
          REQUIRE(count[k] == ref.count[b]);
        } else {
          REQUIRE(rel_diff(intensity[k], ref.intensity[b]) <= 1e-9);
          REQUIRE(rel_diff(sigma[k], ref.sigma[b]) <= 1e-9);
          REQUIRE(rel_diff(count[k], ref.count[b]) <= 1e-9);
        }
      }
      ++tested;
    }
  }
  CHECK(tested == 6);  // reference, csr-parallel, fast (auto, gather, scalar), csc
  // An engine or a variant the table does not have: refused, naming what it knows.
  auto r = run_xrdbench("integrate --engine nope --poni " + q(kPoni) + " --out " + q(dir / "x.csv") + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("known: reference, csr-parallel, fast, csc, opencl") != std::string::npos);
  // A variant the engine lacks is a usage error too (exit 2 with the valid ones, before any work; it used to be found
  // when the engine was built, exit 1: issue 11's "usage errors exit 2").
  r = run_xrdbench("integrate --engine fast:turbo --poni " + q(kPoni) + " --out " + q(dir / "x.csv") + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("no variant 'turbo' (valid: fast:auto, fast:gather, fast:scalar)") != std::string::npos);
  CHECK(r.output.find("Usage: xrdbench integrate") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "x.csv"));
  r = run_xrdbench("integrate --engine csc:fast --poni " + q(kPoni) + " --out " + q(dir / "x.csv") + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("engine csc has no variant 'fast' (it has none: give csc)") != std::string::npos);
  // --device auto (the default, as on every subcommand) is the CPU unless --engine opencl asks for a device; so the
  // device engine without a device is now `--device cpu` (the default used to be cpu here, auto elsewhere).
  r = run_xrdbench("integrate --engine opencl --device cpu --poni " + q(kPoni) + " --out " + q(dir / "x.csv") + " " +
                   q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("give --device opencl") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("xrdbench integrate: usage errors exit 2 with a message, missing files exit 1 naming them") {
  const auto dir = xrd::test::temp_dir("integrate_errors");
  const auto csv = q(dir / "x.csv");
  auto r = run_xrdbench("integrate --out " + csv + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("--poni FILE is required") != std::string::npos);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("--out OUT is required") != std::string::npos);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " --out " + csv + " " + q(kFrame) + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("CSV output takes one input file") != std::string::npos);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " --unit furlongs --out " + csv + " " + q(kFrame));
  CHECK(r.status == 2);
  CHECK(r.output.find("unknown unit 'furlongs'") != std::string::npos);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " --split pseudo --out " + csv + " " + q(kFrame));
  CHECK(r.status == 2);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " --range 1 --out " + csv + " " + q(kFrame));
  CHECK(r.status == 2);
  r = run_xrdbench("integrate --poni /no/such.poni --out " + csv + " " + q(kFrame));
  CHECK(r.status == 1);
  CHECK(r.output.find("/no/such.poni") != std::string::npos);
  r = run_xrdbench("integrate --poni " + q(kPoni) + " --mask " +
                   q(xrd::test::fixtures() / "real" / "pilatus300k_in16c_010001.cbf") + " --out " + csv +
                   " " + q(kFrame));
  CHECK(r.status == 1);
  CHECK(r.output.find("mask is 487 x 619 pixels") != std::string::npos);
  r = run_xrdbench("integrate --help");
  CHECK(r.status == 0);
  CHECK(r.output.find("--split") != std::string::npos);
}

TEST_CASE("mask files: nonzero is masked, the shape is checked; negative pixels added on demand") {
  const auto dir = xrd::test::temp_dir("mask_read");
  const std::vector<int32_t> m = {0, 1, 0, 2, -1, 0};
  xrd::cbf::write(dir / "m.cbf", m, 3, 2);
  CHECK(xrd::mask::read(dir / "m.cbf") == std::vector<uint8_t>{0, 1, 0, 1, 1, 0});
  CHECK(xrd::mask::read(dir / "m.cbf", 3, 2).size() == 6);
  CHECK_THROWS_AS(xrd::mask::read(dir / "m.cbf", 2, 3), xrd::Error);
  std::vector<uint8_t> mask;
  CHECK(xrd::mask::add_negative(std::vector<int32_t>{5, -1, 0, -2}, mask) == 2);
  CHECK(mask == std::vector<uint8_t>{0, 1, 0, 1});
  CHECK(xrd::mask::add_negative(std::vector<int32_t>{-1, -1, 0, 0}, mask) == 1);
  CHECK_THROWS_AS(xrd::mask::add_negative(std::vector<int32_t>{1}, mask), xrd::Error);
}
