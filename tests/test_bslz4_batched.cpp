// opencl-batched on NXmx (bitshuffle-LZ4) datasets: the readers read each frame's chunk straight into the batch's
// pinned staging (Hdf5FrameSource::load_into), the device decodes (kernels/bslz4.cl) and integrates the batch; rows
// valid against the CPU reference for uint16 and uint32 pixels, in batches of several frames across two data files.
// A chunk with a bad block size (found on the host at submit) and one with bad LZ4 data (found on the device) fail
// their frames only, with the CPU decoder's error (same file, byte and words); the other frames validate.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "datasets/frame_source.hpp"
#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json row_of(const fs::path& out) {
  std::ifstream in(out / "results.json");
  return json::parse(in)["rows"][0];
}

// Overwrites bytes of a frame's chunk in its data file (the origin says which: "<file>::/entry/data/data[k]").
void patch(const frames::Hdf5FrameSource& src, size_t frame, size_t at, const std::vector<uint8_t>& bytes) {
  frames::EncodedFrame f;
  src.load(frame, f);
  REQUIRE(at + bytes.size() <= f.payload.size());
  const std::string file = f.origin.substr(0, f.origin.find("::"));
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(io);
  io.seekp(static_cast<std::streamoff>(f.payload_offset + at));
  io.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

}  // namespace

TEST_CASE("opencl-batched decodes NXmx bitshuffle-LZ4 frames on the device; a bad chunk fails its frame only",
          "[ocl][bslz4]") {
  const auto dir = test::temp_dir("bslz4_batched");
  for (const std::string pixel : {"uint16", "uint32"}) {
    INFO(pixel);
    const fs::path h5 = dir / pixel;
    auto r = test::run_xrdbench("dataset synth --out " + h5.string() + " --frames 5 --seed 7 -j 2 --format h5 --pixel " +
                                pixel + " --frames-per-file 3");
    INFO(r.output);
    REQUIRE(r.status == 0);
    const fs::path out = dir / ("out_" + pixel);
    // Batches of 2 from 2 readers: partial batches, frames of both data files in one batch.
    r = test::run_xrdbench("run --quiet --dataset " + h5.string() + " --strategy opencl-batched --batch 2 --readers 2 "
                           "--repeats 1 --no-write --out " + out.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json row = row_of(out);
    CHECK(row["codec"] == "bitshuffle-lz4");
    CHECK(row["frames"] == 5);
    CHECK(row["failed_frames"] == 0);
    CHECK(row["validated"] == true);
    CHECK(row["valid"] == true);
    // A row on a device: the host-to-device bound measured in the same invocation, before and after the rows.
    std::ifstream in(out / "results.json");
    const json bound = json::parse(in)["h2d_bound"];
    REQUIRE(bound.is_object());
    CHECK(!bound["device"].get<std::string>().empty());
    REQUIRE(bound["pinned_GBps"].size() == 2);
    const double best = std::max(bound["pinned_GBps"][0].get<double>(), bound["pinned_GBps"][1].get<double>());
    CHECK(best > 0);
    CHECK(bound["bytes_per_frame"].get<double>() > 0);
    CHECK(bound["frames_per_s"].get<double>() ==
          Approx(best * 1e9 / bound["bytes_per_frame"].get<double>()).epsilon(1e-12));
    // Not quiet: the bound and the row as a % of it are printed after the rows.
    if (pixel == "uint16") {
      r = test::run_xrdbench("run --dataset " + h5.string() + " --strategy opencl-batched --batch 2 --readers 2 "
                             "--repeats 1 --warmup 0 --no-write --out " + (dir / "out_loud").string());
      INFO(r.output);
      REQUIRE(r.status == 0);
      CHECK_THAT(r.output, Catch::Contains("Host-to-device bound:") &&
                               Catch::Contains("opencl-batched-2-gpu-MEM: ") &&
                               Catch::Contains("% of the host-to-device bound"));
    }
  }

  // load_into (pread() at the chunk's address, outside HDF5) reads the bytes load() (H5Dread_chunk) reads.
  {
    frames::Hdf5FrameSource src({dir / "uint32" / "synth_master.h5"});
    for (size_t i = 0; i < src.size(); ++i) {
      frames::EncodedFrame a, b;
      src.load(i, a);
      std::vector<uint8_t> mine;
      src.load_into(i, b, [&](const frames::EncodedFrame& meta, size_t bytes) {
        CHECK(meta.codec == frames::Codec::bitshuffle_lz4);
        CHECK(meta.payload_offset == a.payload_offset);
        mine.assign(bytes, 0xEE);
        return std::span<uint8_t>(mine);
      });
      REQUIRE(std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end()));
      REQUIRE(b.payload.data() == mine.data());
      REQUIRE(b.origin == a.origin);
    }
  }

  // uint16: frame 1's first block size made larger than LZ4's bound (the host's walk refuses it at submit); frame 3's
  // first LZ4 block overwritten with 0xFF (a literal run longer than the block: found by the device kernel).
  const fs::path h5 = dir / "uint16";
  {
    frames::Hdf5FrameSource src({h5 / "synth_master.h5"});
    patch(src, 1, 12, {0x7f});
    frames::EncodedFrame f;
    src.load(3, f);
    const uint32_t first_block = be32(f.payload, 12);
    REQUIRE(first_block > 16);
    patch(src, 3, 16, std::vector<uint8_t>(first_block, 0xFF));
  }
  const fs::path bad_gpu = dir / "out_bad_gpu", bad_cpu = dir / "out_bad_cpu";
  auto r = test::run_xrdbench("run --quiet --dataset " + h5.string() + " --strategy opencl-batched --batch 4 "
                              "--readers 2 --repeats 1 --no-write --out " + bad_gpu.string());
  INFO(r.output);
  CHECK(r.status == 3);  // the row is invalid: failed frames
  r = test::run_xrdbench("run --quiet --dataset " + h5.string() + " --strategy sequential --repeats 1 --no-write "
                         "--device cpu --out " + bad_cpu.string());
  INFO(r.output);
  CHECK(r.status == 3);
  const json gpu = row_of(bad_gpu), cpu = row_of(bad_cpu);
  CHECK(gpu["failed_frames"] == 2);
  CHECK(gpu["validated"] == true);  // the 3 good frames equal the reference
  CHECK(gpu["valid"] == false);
  REQUIRE(gpu["errors"].size() == 2);
  REQUIRE(cpu["errors"].size() == 2);
  std::vector<std::pair<std::string, std::string>> g, c;
  for (const auto& e : gpu["errors"]) g.emplace_back(e["file"], e["reason"]);
  for (const auto& e : cpu["errors"]) c.emplace_back(e["file"], e["reason"]);
  std::sort(g.begin(), g.end());
  std::sort(c.begin(), c.end());
  for (size_t k = 0; k < 2; ++k) {
    INFO("device: " << g[k].first << ": " << g[k].second << "\ncpu:    " << c[k].first << ": " << c[k].second);
    CHECK(g[k] == c[k]);  // the same frame, byte and words as the CPU decoder
  }  // the same frames, bytes and words as the CPU decoder
  CHECK_THAT(g[0].first, Catch::EndsWith("synth_data_000001.h5::/entry/data/data[1]"));
  CHECK_THAT(g[1].first, Catch::EndsWith("synth_data_000002.h5::/entry/data/data[0]"));
  for (const auto& [file, reason] : g) CHECK_THAT(reason, Catch::Contains("bad bitshuffle-LZ4 chunk"));
  fs::remove_all(dir);
}
