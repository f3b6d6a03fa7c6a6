// `xrdbench dataset synth --format h5` and the strategies on NXmx datasets: the HDF5 frames decode to the CBF frames
// of the same seed (as the detector stores them: unsigned types flag negatives with 2^N - 1, read back as -1);
// every CPU strategy runs valid on them, by folder and by master file; the patterns equal those of the CBF dataset;
// results.json says which codec ran; `dataset verify` checks the HDF5 files; the opencl strategy decodes the
// chunks on the device.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "datasets/frame_source.hpp"
#include "datasets/nxmx.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
namespace fs = std::filesystem;

namespace {

std::vector<float> patterns(const fs::path& file) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t d = H5Dopen2(f, "/entry/integrate/intensity", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(s));
  std::vector<float> v(n);
  REQUIRE(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
  return v;
}

nlohmann::json results(const fs::path& out) {
  std::ifstream in(out / "results.json");
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("synth --format h5: same frames as the CBF dataset, every CPU strategy valid, same patterns", "[bslz4]") {
  const auto dir = test::temp_dir("bslz4_dataset");
  const fs::path cbf = dir / "cbf";
  auto r = test::run_xrdbench("dataset synth --out " + cbf.string() + " --frames 3 --seed 5 -j 2");
  REQUIRE(r.status == 0);
  frames::CbfFileSource cbf_src({cbf / "frame_00000.cbf", cbf / "frame_00001.cbf", cbf / "frame_00002.cbf"});

  for (const std::string pixel : {"uint16", "uint32", "int32"}) {
    INFO(pixel);
    const fs::path h5 = dir / pixel;
    r = test::run_xrdbench("dataset synth --out " + h5.string() + " --frames 3 --seed 5 -j 2 --format h5 --pixel " +
                           pixel + " --frames-per-file 2");
    INFO(r.output);
    REQUIRE(r.status == 0);
    REQUIRE(fs::exists(h5 / "synth_master.h5"));
    REQUIRE(fs::exists(h5 / "synth_data_000002.h5"));
    REQUIRE(test::run_xrdbench("dataset verify " + h5.string()).status == 0);

    // The HDF5 frames are the CBF frames as the detector stores them.
    frames::Hdf5FrameSource src({h5 / "synth_master.h5"});
    REQUIRE(src.size() == 3);
    REQUIRE(!src.pixel_mask().empty());
    frames::EncodedFrame a, b;
    for (size_t i = 0; i < 3; ++i) {
      cbf_src.load(i, a);
      src.load(i, b);
      REQUIRE(b.width == a.width);
      REQUIRE(b.height == a.height);
      std::vector<int32_t> want(a.pixels()), got(b.pixels()), filtered(b.pixels());
      frames::decode(a, std::span<int32_t>(want));
      frames::decode(b, std::span<int32_t>(got));
      src.read_filtered(i, filtered);
      size_t flagged = 0;
      for (auto& x : want) {
        if (pixel == "uint16" && (x < 0 || x >= 65535)) x = -1;
        if (pixel == "uint32" && x < 0) x = -1;
        flagged += x < 0;
      }
      REQUIRE(flagged > 0);
      REQUIRE(got == want);
      REQUIRE(filtered == want);
    }

    // Every CPU strategy (uint16; sequential for the others), by folder and by master file; rows and dataset say
    // the codec.
    for (const std::string strategy : {"sequential", "pool", "pipeline", "fused"}) {
      if (pixel != "uint16" && strategy != "sequential") continue;  // strategies x types: uint16 covers them
      const fs::path out = dir / ("out_" + pixel + "_" + strategy);
      const std::string ds = strategy == "pool" ? (h5 / "synth_master.h5").string() : h5.string();
      r = test::run_xrdbench("run --quiet --dataset " + ds + " --strategy " + strategy + " --repeats 1 --out " +
                             out.string());
      INFO(strategy << ": " << r.output);
      REQUIRE(r.status == 0);
      const auto j = results(out);
      REQUIRE(j["dataset"]["codec"] == "bitshuffle-lz4");
      REQUIRE(j["dataset"]["format"] == "nxmx");
      REQUIRE(j["dataset"]["frames"] == 3);
      REQUIRE(j["rows"][0]["codec"] == "bitshuffle-lz4");
      REQUIRE(j["rows"][0]["valid"] == true);
    }
  }
  // The patterns of the HDF5 datasets equal those of the CBF one (the flagged pixels are masked in both).
  r = test::run_xrdbench("run --quiet --dataset " + cbf.string() + " --strategy sequential --repeats 1 --out " +
                         (dir / "out_cbf").string());
  REQUIRE(r.status == 0);
  REQUIRE(results(dir / "out_cbf")["rows"][0]["codec"] == "byte-offset");
  const auto ref = patterns(dir / "out_cbf/patterns/sequential-cpu-MEM.h5");
  for (const std::string pixel : {"uint16", "uint32", "int32"})
    REQUIRE(patterns(dir / ("out_" + pixel + "_sequential") / "patterns/sequential-cpu-MEM.h5") == ref);

  // The OpenCL strategy decodes the chunks on the device (PoCL here) and integrates there: valid against the CPU.
  r = test::run_xrdbench("run --quiet --dataset " + (dir / "uint16").string() + " --strategy opencl --repeats 1 --out " +
                         (dir / "out_ocl").string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto j = results(dir / "out_ocl");
  REQUIRE(j["rows"][0]["codec"] == "bitshuffle-lz4");
  REQUIRE(j["rows"][0]["valid"] == true);
  REQUIRE(j["rows"][0]["failed_frames"] == 0);
  fs::remove_all(dir);
}
