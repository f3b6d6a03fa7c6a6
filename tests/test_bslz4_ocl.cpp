// The OpenCL bitshuffle-LZ4 decoder (on PoCL in CI) is bit-exact with the CPU reference: every element type, sizes
// that are not a multiple of 8 or of the block, several block sizes, incompressible blocks, a real Pilatus frame;
// bad chunks give the reference's error (message and byte); the engine's batched chain takes bitshuffle-LZ4 frames
// beside byte-offset ones in one batch, a bad chunk failing its frame only.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "datasets/cbf.hpp"
#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "kernels/integrate.hpp"
#include "kernels/ocl_bslz4.hpp"
#include "kernels/ocl_engine.hpp"
#include "tests/test_ocl_support.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

namespace {

std::vector<int32_t> reference(const std::vector<uint8_t>& chunk, size_t n, byte_offset::ElementType t) {
  std::vector<int32_t> v(n);
  bslz4::decode_scalar(chunk, std::span<int32_t>(v), t);
  nxmx::mask_overflow(std::span<int32_t>(v), t);
  return v;
}

void check(ocl::Bslz4Decoder& dec, const std::vector<uint8_t>& chunk, size_t n, byte_offset::ElementType t) {
  const auto want = reference(chunk, n, t);
  dec.decode(chunk, n, t);
  std::vector<int32_t> got(n, 0x5a5a5a5a);
  dec.read(got);
  size_t bad = 0;
  while (bad < n && got[bad] == want[bad]) ++bad;
  INFO("first difference at element " << bad << " of " << n << ": " << (bad < n ? got[bad] : 0) << " != " << (bad < n ? want[bad] : 0) << ", chunk " << chunk.size() << " bytes");
  REQUIRE(bad == n);
}

}  // namespace

TEST_CASE("device bitshuffle-LZ4 decode equals the reference", "[ocl][bslz4]") {
  auto& ctx = test::test_context();
  ocl::Bslz4Decoder dec(ctx, 4 << 20, 1 << 20);
  std::mt19937 rng(3);
  std::poisson_distribution<int> counts(2.0);
  for (auto t : {byte_offset::ElementType::u8, byte_offset::ElementType::i8, byte_offset::ElementType::u16, byte_offset::ElementType::i16,
                 byte_offset::ElementType::u32, byte_offset::ElementType::i32})
    for (size_t n : {1, 7, 8, 100, 2047, 4096 + 13, 70001})
      for (size_t block : {0, 8, 64, 1000})
        for (bool random_bits : {false, true}) {
          INFO(byte_offset::to_string(t) << ", " << n << " elements, block " << block << (random_bits ? ", random" : ""));
          std::vector<int32_t> v(n);
          for (auto& x : v) x = random_bits ? static_cast<int32_t>(rng()) : counts(rng);
          v[n / 2] = -1;
          const auto chunk = bslz4::encode(bslz4::to_element_bytes(v, t), bslz4::element_size(t), block);
          check(dec, chunk, n, t);
        }
}

TEST_CASE("device bitshuffle-LZ4 decode of the real Pilatus3 2M frame", "[ocl][bslz4]") {
  auto& ctx = test::test_context();
  const auto path = test::fixtures() / "real/pilatus3x2m_lab6_300_00_0001p.cbf";
  auto bytes = test::read_bytes(path);
  const auto v = cbf::parse(bytes, path.string());
  std::vector<int32_t> px(v.binary.width * v.binary.height);
  cbf::decode(v, std::span<int32_t>(px));
  const auto chunk = bslz4::encode(bslz4::to_element_bytes(px, byte_offset::ElementType::i32), 4);
  ocl::Bslz4Decoder dec(ctx, chunk.size(), px.size());
  dec.decode(chunk, px.size(), byte_offset::ElementType::i32);
  std::vector<int32_t> got(px.size());
  dec.read(got);
  REQUIRE(got == px);
}

TEST_CASE("bad chunks on the device give the reference's error", "[ocl][bslz4]") {
  auto& ctx = test::test_context();
  ocl::Bslz4Decoder dec(ctx, 1 << 16, 1 << 14);
  const auto t = byte_offset::ElementType::u16;
  // An LZ4 match offset before the start of the block, and a literal run past the block's end.
  for (const std::vector<uint8_t>& c :
       {std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 4, 0x10, 0xAB, 0x05, 0x00},
        std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 7, 0x4C, 1, 2, 3, 4, 1, 0},
        std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 9, 0x80, 1, 2, 3, 4, 5, 6, 7, 8},
        std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 16}}) {
    std::string want, got;
    uint64_t want_at = 0, got_at = 0;
    std::vector<int32_t> out(8);
    try {
      bslz4::decode_scalar(c, std::span<int32_t>(out), t);
    } catch (const bslz4::StreamError& e) {
      want = e.what();
      want_at = e.offset();
    }
    try {
      dec.decode(c, 8, t);
    } catch (const bslz4::StreamError& e) {
      got = e.what();
      got_at = e.offset();
    }
    REQUIRE(!want.empty());
    REQUIRE(got == want);
    REQUIRE(got_at == want_at);
  }
  // A good chunk still decodes after the errors.
  std::vector<int32_t> v(1000, 3);
  check(dec, bslz4::encode(bslz4::to_element_bytes(v, t), 2), 1000, t);
}

TEST_CASE("a batch of the device chain mixes byte-offset and bitshuffle-LZ4 frames; a bad chunk fails alone",
          "[ocl][bslz4]") {
  auto& ctx = test::test_context();
  const size_t w = 190, h = 160;
  integration::Geometry g;
  g.dist = 0.05;
  g.poni1 = 0.012;
  g.poni2 = 0.015;
  g.rot1 = 0.05;
  g.wavelength = 1.0e-10;
  integration::Options o;
  o.bins = 100;
  o.unit = integration::Unit::q_nm;
  o.split = integration::Split::bbox;
  std::vector<uint8_t> mask(w * h, 0);
  for (size_t x = 0; x < w; ++x) mask[60 * w + x] = 1;
  const auto setup = integration::build_setup(g, mask, w, h, o);
  std::mt19937 rng(11);
  auto image = [&](int mean) {
    std::poisson_distribution<int> counts(mean);
    std::vector<int32_t> v(w * h);
    for (auto& x : v) x = counts(rng);
    for (int k = 0; k < 100; ++k) v[rng() % v.size()] = -1;  // gaps / bad pixels
    v[7] = 65535;  // uint16 frames: the overflow flag (reads as -1); a count elsewhere
    return v;
  };
  // Frames: byte-offset, bitshuffle-LZ4 uint16, bitshuffle-LZ4 uint32, a bad uint16 chunk, byte-offset.
  const auto i0 = image(30), i1 = image(50), i2 = image(80), i4 = image(20);
  std::vector<uint8_t> bo0, bo4;
  byte_offset::encode(i0, bo0);
  byte_offset::encode(i4, bo4);
  const auto u16 = byte_offset::ElementType::u16, u32 = byte_offset::ElementType::u32;
  const auto c1 = bslz4::encode(bslz4::to_element_bytes(i1, u16), 2);
  const auto c2 = bslz4::encode(bslz4::to_element_bytes(i2, u32), 4);
  auto bad = c1;
  const uint32_t first = uint32_t(bad[12]) << 24 | uint32_t(bad[13]) << 16 | uint32_t(bad[14]) << 8 | bad[15];
  std::fill(bad.begin() + 16, bad.begin() + 16 + first, uint8_t(0xFF));  // the first LZ4 block: a run past its end

  const size_t max_bytes = std::max({bo0.size(), bo4.size(), c1.size(), c2.size()});
  ocl::Engine eng(ctx, setup, max_bytes, 5);
  ocl::Staging& s = eng.staging();
  s.add(bo0, w * h, byte_offset::ElementType::i32, "f0", 0);
  s.add(c1, w * h, u16, "f1", 1, ocl::Payload::bslz4, 1000);
  s.add(c2, w * h, u32, "f2", 2, ocl::Payload::bslz4, 2000);
  s.add(bad, w * h, u16, "f3", 3, ocl::Payload::bslz4, 3000);
  s.add(bo4, w * h, byte_offset::ElementType::i32, "f4", 4);
  eng.submit(s);
  ocl::BatchResult r;
  eng.complete(r);
  REQUIRE(r.size() == 5);

  auto expect = [&](const std::vector<uint8_t>& chunk, byte_offset::ElementType t) { return reference(chunk, w * h, t); };
  const std::vector<std::vector<int32_t>> truth = {i0, expect(c1, u16), expect(c2, u32), {}, i4};
  REQUIRE(truth[1][7] == -1);  // the overflow flag
  for (size_t k : {0, 1, 2, 4}) {
    INFO("frame " << k << ": " << (r.frames[k].error ? r.frames[k].error->what() : "ok"));
    REQUIRE(!r.frames[k].error);
    REQUIRE(r.frames[k].tag == k);
    integration::Pattern ref;
    integration::integrate(setup, truth[k], ref);
    size_t checked = 0;
    for (size_t b = 0; b < ref.count.size(); ++b) {
      if (ref.count[b] <= 0.5) continue;
      ++checked;
      CHECK(std::abs(r.frames[k].pattern.intensity[b] - ref.intensity[b]) <= 1e-5 * std::abs(ref.intensity[b]));
      CHECK(r.frames[k].pattern.count[b] == Approx(ref.count[b]).epsilon(1e-6));
    }
    CHECK(checked > 50);
  }
  // The bad chunk: the CPU reference's error, at the chunk's byte + its file offset.
  REQUIRE(r.frames[3].error);
  uint64_t at = 0;
  std::string what;
  try {
    std::vector<int32_t> out(w * h);
    bslz4::decode_scalar(bad, std::span<int32_t>(out), u16);
  } catch (const bslz4::StreamError& e) {
    at = e.offset();
    what = e.what();
  }
  REQUIRE(!what.empty());
  CHECK(r.frames[3].error->file() == "f3");
  CHECK(r.frames[3].error->where() == Error::at_byte(3000 + at));
  CHECK_THAT(r.frames[3].error->reason(), Catch::Contains("bad bitshuffle-LZ4 chunk") && Catch::Contains(what));
  CHECK(!r.frames[3].decode.ok());
}
