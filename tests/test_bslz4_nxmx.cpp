// NXmx HDF5 frames with bitshuffle-LZ4: our writer's files read back by our reader (stored chunks, fast and
// reference decoders), by HDF5's filter pipeline with the bitshuffle plugin, and by h5py + the plugin and
// bitshuffle.decompress_lz4 in /usr/bin/python3 (tests/scripts/bslz4_peer.py); files written by bitshuffle.h5 from
// Python read by ours; master + data files and single files; the overflow value masked; bad files refused with
// errors naming the file, the frame and the byte.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
namespace fs = std::filesystem;

namespace {

std::vector<int32_t> frame_values(size_t w, size_t h, size_t frame, byte_offset::ElementType t) {
  std::mt19937 rng(static_cast<uint32_t>(frame * 7919 + w));
  std::poisson_distribution<int> counts(1.5);
  std::vector<int32_t> v(w * h);
  for (auto& x : v) x = rng() % 53 == 0 ? static_cast<int32_t>(rng() % 60000) : counts(rng);
  const int32_t over = t == byte_offset::ElementType::u16 ? 65535 : -1;  // 2^N - 1 (i32: the Pilatus-style -1)
  for (size_t i = 0; i < w; ++i) v[w + i] = over;               // row 1 overflows
  return v;
}

// The values a reader must give: wrapped to the element, overflow as -1.
std::vector<int32_t> expected(std::vector<int32_t> v, byte_offset::ElementType t) {
  for (auto& x : v) {
    if (t == byte_offset::ElementType::u16) x = static_cast<uint16_t>(x);
    if (t == byte_offset::ElementType::u16 && x == 65535) x = -1;
  }
  return v;
}

std::string run(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  return (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "FAILED: ") + out;
}

const std::string kPeer = std::string("/usr/bin/python3 ") + XRD_TEST_DATA_DIR + "/../scripts/bslz4_peer.py";

void write_raw(const fs::path& p, const std::vector<std::vector<int32_t>>& frames, byte_offset::ElementType t) {
  std::ofstream f(p, std::ios::binary);
  for (const auto& v : frames) {
    const auto b = bslz4::to_element_bytes(v, t);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
}

}  // namespace

TEST_CASE("our NXmx files read back identically by us, the HDF5 plugin, h5py and bitshuffle", "[bslz4][nxmx]") {
  const auto dir = test::temp_dir("bslz4_nxmx");
  struct Case {
    byte_offset::ElementType t;
    size_t w, h, frames, per_file;
  };
  for (const Case c : {Case{byte_offset::ElementType::u16, 37, 23, 5, 2}, Case{byte_offset::ElementType::u32, 300, 211, 3, 0},
                       Case{byte_offset::ElementType::i32, 64, 64, 4, 3}, Case{byte_offset::ElementType::u16, 1030, 514, 2, 1}}) {
    const std::string name = "t" + std::to_string(int(c.t)) + "_" + std::to_string(c.w) + "_master.h5";
    INFO(name);
    const fs::path master = dir / name;
    nxmx::WriteOptions o;
    o.width = c.w;
    o.height = c.h;
    o.frames = c.frames;
    o.element = c.t;
    o.frames_per_file = c.per_file;
    o.pixel_mask.assign(c.w * c.h, 0);
    o.pixel_mask[3] = 1;
    o.pixel_mask[c.w * c.h - 1] = 4;
    std::vector<std::vector<int32_t>> frames;
    {
      nxmx::Writer wr(master, o);
      for (size_t i = 0; i < c.frames; ++i) frames.push_back(frame_values(c.w, c.h, i, c.t));
      for (size_t i = c.frames; i-- > 0;) wr.write(i, frames[i]);  // any order
      wr.close();
      REQUIRE(wr.files().size() == 1 + (c.per_file ? (c.frames + c.per_file - 1) / c.per_file : 0));
    }
    frames::Hdf5FrameSource src({master});
    REQUIRE(src.size() == c.frames);
    REQUIRE(src.width() == c.w);
    REQUIRE(src.height() == c.h);
    REQUIRE(src.element() == c.t);
    const auto mask = src.pixel_mask();
    REQUIRE(mask.size() == c.w * c.h);
    REQUIRE(mask[3] == 1);
    REQUIRE(mask[c.w * c.h - 1] == 1);
    REQUIRE(std::count(mask.begin(), mask.end(), 1) == 2);
    frames::EncodedFrame f;
    for (size_t i = 0; i < c.frames; ++i) {
      src.load(i, f);
      REQUIRE(f.codec == frames::Codec::bitshuffle_lz4);
      REQUIRE(f.origin.find("::/entry/data/data[") != std::string::npos);
      const auto want = expected(frames[i], c.t);
      std::vector<int32_t> fast(c.w * c.h), ref(c.w * c.h), filtered(c.w * c.h);
      frames::decode(f, std::span<int32_t>(fast));
      frames::decode(f, std::span<int32_t>(ref), true);
      src.read_filtered(i, filtered);  // HDF5's pipeline + Debian's bitshuffle plugin
      REQUIRE(fast == want);
      REQUIRE(ref == want);
      REQUIRE(filtered == want);
      std::vector<float> ff(c.w * c.h);
      frames::decode(f, std::span<float>(ff));
      REQUIRE(ff[c.w] == -1.f);
    }
    // The peers: h5py + plugin, and bitshuffle.decompress_lz4 on each raw chunk.
    const fs::path raw = dir / (name + ".raw");
    write_raw(raw, frames, c.t);
    const auto out = run(kPeer + " read " + master.string() + " " + raw.string() + " " +
                         (c.t == byte_offset::ElementType::u16 ? "uint16" : c.t == byte_offset::ElementType::u32 ? "uint32" : "int32") +
                         " " + std::to_string(c.frames) + " " + std::to_string(c.h) + " " + std::to_string(c.w));
    INFO(out);
    REQUIRE(out.rfind("ok " + std::to_string(c.frames) + " frames", 0) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("files written by bitshuffle.h5 from Python read by our reader", "[bslz4][nxmx]") {
  const auto dir = test::temp_dir("bslz4_peer_write");
  struct Case {
    const char* dtype;
    byte_offset::ElementType t;
    size_t w, h, block;
  };
  for (const Case c : {Case{"uint16", byte_offset::ElementType::u16, 129, 77, 0}, Case{"uint32", byte_offset::ElementType::u32, 200, 100, 0},
                       Case{"int32", byte_offset::ElementType::i32, 31, 17, 64}, Case{"uint16", byte_offset::ElementType::u16, 100, 60, 256}}) {
    const fs::path file = dir / (std::string(c.dtype) + std::to_string(c.block) + ".h5");
    const fs::path raw = dir / (std::string(c.dtype) + std::to_string(c.block) + ".raw");
    const size_t frames = 3;
    const auto out = run(kPeer + " write " + file.string() + " " + raw.string() + " " + c.dtype + " " +
                         std::to_string(frames) + " " + std::to_string(c.h) + " " + std::to_string(c.w) + " 7 " +
                         std::to_string(c.block));
    INFO(out);
    REQUIRE(out.rfind("wrote", 0) == 0);
    const auto bytes = test::read_bytes(raw);
    const size_t es = bslz4::element_size(c.t), n = c.w * c.h;
    REQUIRE(bytes.size() == frames * n * es);
    frames::Hdf5FrameSource src({file});
    REQUIRE(src.size() == frames);
    frames::EncodedFrame f;
    for (size_t i = 0; i < frames; ++i) {
      src.load(i, f);
      std::vector<int32_t> want(n), got(n), ref(n);
      // The expected values straight from the raw bytes (no codec involved).
      for (size_t p = 0; p < n; ++p) {
        uint32_t v = 0;
        std::memcpy(&v, bytes.data() + (i * n + p) * es, es);
        want[p] = c.t == byte_offset::ElementType::u16 ? (v == 65535 ? -1 : static_cast<int32_t>(v)) : static_cast<int32_t>(v);
      }
      frames::decode(f, std::span<int32_t>(got));
      frames::decode(f, std::span<int32_t>(ref), true);
      REQUIRE(got == want);
      REQUIRE(ref == want);
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("bad NXmx files and chunks: errors name the file, the frame and the byte", "[bslz4][nxmx]") {
  const auto dir = test::temp_dir("bslz4_bad");
  nxmx::WriteOptions o;
  o.width = 40;
  o.height = 30;
  o.frames = 4;
  o.element = byte_offset::ElementType::u16;
  o.frames_per_file = 2;
  const fs::path master = dir / "run_master.h5";
  {
    nxmx::Writer wr(master, o);
    for (size_t i = 0; i < 4; ++i) wr.write(i, frame_values(40, 30, i, o.element));
  }
  SECTION("a missing data file: the link and where it was looked for") {
    fs::remove(dir / "run_data_000002.h5");
    try {
      frames::Hdf5FrameSource src({master});
      FAIL("no error");
    } catch (const Error& e) {
      REQUIRE(e.file() == master.string());
      REQUIRE(e.where() == "/entry/data/data_000002");
      REQUIRE_THAT(e.reason(), Catch::Contains("run_data_000002.h5:/entry/data/data"));
    }
  }
  SECTION("a frame never written") {
    o.frames = 2;
    nxmx::Writer wr(dir / "part_master.h5", o);
    wr.write(0, frame_values(40, 30, 0, o.element));
    wr.close();
    frames::Hdf5FrameSource src({dir / "part_master.h5"});
    frames::EncodedFrame f;
    src.load(0, f);
    REQUIRE_THROWS_WITH(src.load(1, f), Catch::Contains("part_data_000001.h5::/entry/data/data[1]") &&
                                            Catch::Contains("never written"));
  }
  SECTION("a corrupt chunk: file byte = chunk address + chunk offset") {
    frames::Hdf5FrameSource src({master});
    frames::EncodedFrame f;
    src.load(3, f);
    std::vector<uint8_t> bad(f.payload.begin(), f.payload.end());
    bad[12] = 0x7f;  // the first block's compressed size, now beyond LZ4's bound
    f.payload = bad;
    std::vector<int32_t> out(f.pixels());
    try {
      frames::decode(f, std::span<int32_t>(out));
      FAIL("no error");
    } catch (const Error& e) {
      REQUIRE(e.file() == (dir / "run_data_000002.h5").string() + "::/entry/data/data[1]");
      REQUIRE(e.where() == "byte " + std::to_string(f.payload_offset + 12));
      REQUIRE_THAT(e.reason(), Catch::Contains("block 0"));
    }
  }
  SECTION("not an NXmx file") {
    const fs::path p = dir / "plain.h5";
    test::write_bytes(p, {'x'});
    REQUIRE_THROWS_WITH(frames::Hdf5FrameSource({p}), Catch::Contains("plain.h5") && Catch::Contains("cannot open"));
  }
  fs::remove_all(dir);
}
