// The OpenCL bitshuffle-LZ4 decoder (on PoCL in CI) is bit-exact with the CPU reference: every element type, sizes
// that are not a multiple of 8 or of the block, several block sizes, incompressible blocks, a real Pilatus frame;
// bad chunks give the reference's error (message and byte).
#include <catch2/catch.hpp>

#include <random>

#include "datasets/cbf.hpp"
#include "datasets/nxmx.hpp"
#include "kernels/bslz4.hpp"
#include "kernels/ocl_bslz4.hpp"
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
