// The encoder: shortest escape per delta class, encode -> decode round trips, and reuse of the caller's buffer.
#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "kernels/byte_offset.hpp"

using namespace xrd;

namespace {
std::vector<int32_t> decoded(const std::vector<uint8_t>& bytes, size_t n) {
  std::vector<int32_t> out(n);
  const auto r = byte_offset::decode_scalar(bytes, out);
  INFO(r.message());
  REQUIRE(r.ok());
  return out;
}
}  // namespace

// Deltas are taken modulo 2^32 (decoders wrap), so INT32_MIN -> INT32_MAX is the 1-byte delta -1.
TEST_CASE("encoder picks the shortest escape for each delta class", "[codec][encode]") {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
  const std::vector<std::pair<std::vector<int32_t>, size_t>> cases = {
      {{0}, 1},       {{127}, 1},     {{-127}, 1},     {{128}, 3},        {{-128}, 3},
      {{32767}, 3},   {{-32767}, 3},  {{-32768}, 7},   {{32768}, 7},      {{kMax}, 7},
      {{kMin + 1}, 7}, {{kMin}, 15},  {{kMin, kMax}, 16}, {{kMax, kMin}, 8},  {{5, 5, 5}, 3},
      {{kMin, 0}, 30}, {{-5, kMax - 5}, 8},
  };
  std::vector<uint8_t> enc;
  for (const auto& [values, size] : cases) {
    INFO("first value " << values[0] << ", " << values.size() << " values");
    CHECK(byte_offset::encoded_size(values) == size);
    byte_offset::encode(values, enc);
    CHECK(enc.size() == size);
    CHECK(decoded(enc, values.size()) == values);
  }
  byte_offset::encode(std::vector<int32_t>{128}, enc);
  CHECK(enc == std::vector<uint8_t>{0x80, 0x80, 0x00});
  byte_offset::encode(std::vector<int32_t>{-32768}, enc);
  CHECK(enc == std::vector<uint8_t>{0x80, 0x00, 0x80, 0x00, 0x80, 0xFF, 0xFF});
}

TEST_CASE("encode -> decode round trips on random data of every delta class", "[codec][encode]") {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> enc(1 << 20);  // capacity the encoder must reuse, and content it must replace
  const size_t capacity = enc.capacity();
  for (int trial = 0; trial < 40; ++trial) {
    const size_t n = std::uniform_int_distribution<size_t>(0, 3000)(rng);
    std::vector<int32_t> v(n);
    int32_t prev = 0;
    for (auto& x : v) {
      // Steps from the previous value wrap modulo 2^32, as the codec's arithmetic does.
      auto step = [&](int64_t d) { return static_cast<int32_t>(static_cast<uint32_t>(prev) + static_cast<uint32_t>(d)); };
      switch (rng() % 6) {
        case 0: x = step(int64_t(rng() % 255) - 127); break;
        case 1: x = step(int64_t(rng() % 65535) - 32767); break;
        case 2: x = static_cast<int32_t>(rng()); break;
        case 3: x = (rng() & 1) ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int32_t>::max(); break;
        case 4: x = step((rng() & 1) ? 128 : -128); break;
        default: x = -2; break;
      }
      prev = x;
    }
    byte_offset::encode(v, enc);
    CHECK(enc.size() == byte_offset::encoded_size(v));
    CHECK(decoded(enc, n) == v);
  }
  CHECK(enc.capacity() == capacity);
}
