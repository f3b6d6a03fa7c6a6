// Bitshuffle-LZ4: every unshuffle kernel this CPU runs and the parallel block decode against the scalar reference,
// bit for bit (every element size, sizes that are not a multiple of the block or of 8, last partial blocks,
// incompressible random blocks, several block sizes); the encoder round trip; the bad streams with their errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>

#include "kernels/bslz4.hpp"

using namespace xrd;

namespace {

const byte_offset::ElementType kTypes[] = {byte_offset::ElementType::u8, byte_offset::ElementType::i8, byte_offset::ElementType::u16,
                                  byte_offset::ElementType::i16, byte_offset::ElementType::u32, byte_offset::ElementType::i32};

// Detector-like values: mostly small counts, a few large ones, the overflow value; or uniform random bits.
std::vector<int32_t> image(size_t n, bool random_bits, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> v(n);
  std::poisson_distribution<int> counts(2.0);
  for (auto& x : v) {
    if (random_bits)
      x = static_cast<int32_t>(rng());
    else
      x = rng() % 97 == 0 ? static_cast<int32_t>(rng() % 70000) : counts(rng);
  }
  if (n > 3) v[n / 2] = -1;  // 2^N - 1 in any unsigned type
  return v;
}

// The values as the element type stores them, then extended back (what decoders must produce).
std::vector<int32_t> wrapped(const std::vector<int32_t>& v, byte_offset::ElementType t) {
  std::vector<int32_t> w(v.size());
  const auto bytes = bslz4::to_element_bytes(v, t);
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case byte_offset::ElementType::u8: w[i] = bytes[i]; break;
      case byte_offset::ElementType::i8: w[i] = static_cast<int8_t>(bytes[i]); break;
      case byte_offset::ElementType::u16: w[i] = static_cast<uint16_t>(v[i]); break;
      case byte_offset::ElementType::i16: w[i] = static_cast<int16_t>(v[i]); break;
      default: w[i] = v[i];
    }
  }
  return w;
}

void check_all_decoders(const std::vector<uint8_t>& chunk, const std::vector<int32_t>& expect, byte_offset::ElementType t) {
  const size_t n = expect.size();
  std::vector<int32_t> ref(n, 0x5a5a5a5a);
  bslz4::decode_scalar(chunk, std::span<int32_t>(ref), t);
  REQUIRE(ref == expect);
  std::vector<float> reff(n);
  bslz4::decode_scalar(chunk, std::span<float>(reff), t);
  for (size_t i = 0; i < n; ++i) REQUIRE(reff[i] == static_cast<float>(expect[i]));
  for (const auto& k : bslz4::kernels()) {
    if (!k.supported()) continue;
    for (int threads : {1, 2}) {
      INFO("kernel " << k.name << ", threads " << threads << ", type " << byte_offset::to_string(t) << ", " << n
                     << " elements");
      std::vector<int32_t> got(n, 0x7a7a7a7a);
      bslz4::decode(chunk, std::span<int32_t>(got), t, threads, &k);
      REQUIRE(got == ref);
      std::vector<float> gotf(n, -7.f);
      bslz4::decode(chunk, std::span<float>(gotf), t, threads, &k);
      REQUIRE(gotf == reff);
    }
  }
}

std::vector<uint8_t> chunk_of(const std::vector<int32_t>& v, byte_offset::ElementType t, size_t block = 0) {
  return bslz4::encode(bslz4::to_element_bytes(v, t), bslz4::element_size(t), block);
}

std::string error_of(const std::vector<uint8_t>& chunk, size_t n, byte_offset::ElementType t, uint64_t* offset = nullptr) {
  std::vector<int32_t> out(n);
  std::string ref_msg, fast_msg;
  uint64_t ref_off = 0, fast_off = 0;
  try {
    bslz4::decode_scalar(chunk, std::span<int32_t>(out), t);
  } catch (const bslz4::StreamError& e) {
    ref_msg = e.what();
    ref_off = e.offset();
  }
  for (const auto& k : bslz4::kernels()) {
    if (!k.supported()) continue;
    try {
      bslz4::decode(chunk, std::span<int32_t>(out), t, 2, &k);
      fast_msg = "";
    } catch (const bslz4::StreamError& e) {
      fast_msg = e.what();
      fast_off = e.offset();
    }
    REQUIRE(fast_msg == ref_msg);  // same error, same byte, on every path
    REQUIRE(fast_off == ref_off);
  }
  if (offset) *offset = ref_off;
  return ref_msg;
}

}  // namespace

TEST_CASE("transpose8 swaps bit (byte r, bit c) with (byte c, bit r)", "[bslz4]") {
  std::mt19937_64 rng(1);
  for (int it = 0; it < 1000; ++it) {
    const uint64_t x = rng();
    uint64_t want = 0;
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        if ((x >> (8 * r + c)) & 1) want |= uint64_t{1} << (8 * c + r);
    REQUIRE(bslz4::detail::transpose8(x) == want);
  }
}

TEST_CASE("every kernel decodes what the encoder wrote, bit for bit with the reference", "[bslz4]") {
  const size_t sizes[] = {0, 1, 7, 8, 9, 63, 64, 65, 200, 1000, 2047, 2048, 2049, 4096, 4103, 8192 + 64 + 5,
                          3 * 4096 + 1000 + 3, 100003};
  uint32_t seed = 1;
  for (auto t : kTypes)
    for (size_t n : sizes)
      for (bool random_bits : {false, true}) {
        const auto v = wrapped(image(n, random_bits, seed++), t);
        const auto chunk = chunk_of(v, t);
        check_all_decoders(chunk, v, t);
      }
}

TEST_CASE("block sizes other than the default, and the block header", "[bslz4]") {
  for (auto t : {byte_offset::ElementType::u16, byte_offset::ElementType::u32, byte_offset::ElementType::u8})
    for (size_t block : {8, 16, 64, 120, 512, 1024, 65536}) {
      const auto v = wrapped(image(5000 + 3, false, static_cast<uint32_t>(block)), t);
      const auto chunk = chunk_of(v, t, block);
      const auto l = bslz4::parse_header(chunk, bslz4::element_size(t), v.size());
      REQUIRE(l.block_elements == block);
      REQUIRE(l.bytes == v.size() * bslz4::element_size(t));
      REQUIRE(l.leftover_elements == 3);
      check_all_decoders(chunk, v, t);
    }
  REQUIRE(bslz4::default_block_elements(1) == 8192);
  REQUIRE(bslz4::default_block_elements(2) == 4096);
  REQUIRE(bslz4::default_block_elements(4) == 2048);
}

TEST_CASE("incompressible blocks are LZ4 literal runs, larger than their input, and decode", "[bslz4]") {
  const auto v = image(4096, true, 77);
  const auto chunk = chunk_of(v, byte_offset::ElementType::u32);
  REQUIRE(chunk.size() > 4096 * 4 + 12);  // no stored mode in this format: LZ4 expands random data a little
  check_all_decoders(chunk, v, byte_offset::ElementType::u32);
}

TEST_CASE("every cut of a chunk is refused with an offset inside it, on every path", "[bslz4]") {
  const auto v = wrapped(image(2 * 2048 + 300 + 5, false, 9), byte_offset::ElementType::u32);
  const auto chunk = chunk_of(v, byte_offset::ElementType::u32);
  for (size_t cut = 0; cut < chunk.size(); ++cut) {
    std::vector<uint8_t> part(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(cut));
    uint64_t off = 0;
    const auto msg = error_of(part, v.size(), byte_offset::ElementType::u32, &off);
    INFO("cut at " << cut << ": " << msg);
    REQUIRE(!msg.empty());
    REQUIRE(off <= cut);
  }
}

TEST_CASE("bad headers, sizes, offsets and overruns give their own errors", "[bslz4]") {
  const auto t = byte_offset::ElementType::u16;
  const auto v = wrapped(image(4096 + 100, false, 5), t);
  const auto good = chunk_of(v, t);
  uint64_t off = 0;

  SECTION("uncompressed size that does not match the frame") {
    REQUIRE_THAT(error_of(good, v.size() + 1, t, &off), Catch::Contains("uncompressed size 8392 bytes, expected"));
    REQUIRE(off == 0);
  }
  SECTION("block size not a multiple of 8 elements") {
    auto c = good;
    c[11] = 6;  // 0x2006 bytes = 4099 elements
    REQUIRE_THAT(error_of(c, v.size(), t, &off), Catch::Contains("block size 8198 bytes"));
    REQUIRE(off == 8);
    c[8] = c[9] = c[10] = c[11] = 0;
    REQUIRE_THAT(error_of(c, v.size(), t, &off), Catch::Contains("block size 0 bytes"));
  }
  SECTION("compressed size beyond the LZ4 bound or the chunk") {
    auto c = good;
    c[12] = 0x7f;
    REQUIRE_THAT(error_of(c, v.size(), t, &off), Catch::Contains("block 0: compressed size"));
    REQUIRE(off == 12);
    c = good;
    const uint32_t first = (uint32_t{c[14]} << 8) | c[15];
    const uint32_t bigger = first + 100000 > 8192 ? 8000 : first;  // within the bound, beyond the chunk's end
    c.resize(12 + 4 + 200);
    c[12] = 0;
    c[13] = 0;
    c[14] = static_cast<uint8_t>(bigger >> 8);
    c[15] = static_cast<uint8_t>(bigger);
    REQUIRE_THAT(error_of(c, v.size(), t, &off), Catch::Contains("truncated: block 0 declares"));
  }
  SECTION("an LZ4 match offset before the start of the block") {
    // One element block (8 u16 = 16 bytes): token 0x1c (1 literal, match 12+4=16 > ...), literal, offset 2.
    std::vector<uint8_t> c = {0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 4, 0x10, 0xAB, 0x05, 0x00};
    REQUIRE_THAT(error_of(c, 8, t, &off), Catch::Contains("offset 5 reaches before the start of the block"));
    REQUIRE(off == 18);
  }
  SECTION("LZ4 output that overruns the block") {
    // Literal run of 17 bytes into a 16-byte block.
    std::vector<uint8_t> c = {0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 19, 0xF0, 2};
    c.resize(c.size() + 17, 1);
    REQUIRE_THAT(error_of(c, 8, t, &off), Catch::Contains("literals overrun the output block: 17 bytes"));
    REQUIRE(off == 16);
    // A match that runs past the block's end: 4 literals, then a 16-byte match at offset 1.
    std::vector<uint8_t> m = {0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 7, 0x4C, 1, 2, 3, 4, 1, 0};
    REQUIRE_THAT(error_of(m, 8, t, &off), Catch::Contains("match overruns the output block"));
  }
  SECTION("a block that decodes short, and bytes after the end") {
    std::vector<uint8_t> c = {0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0, 9, 0x80, 1, 2, 3, 4, 5, 6, 7, 8};
    REQUIRE_THAT(error_of(c, 8, t, &off), Catch::Contains("LZ4 block decodes to 8 bytes, expected 16"));
    auto g = good;
    g.push_back(0);
    REQUIRE_THAT(error_of(g, v.size(), t, &off), Catch::Contains("1 trailing bytes"));
    REQUIRE(off == good.size());
  }
}
