// The scalar reference decoder's contract: values of every delta width and element type, wrap-around, and the
// three failure outcomes with the byte offset and the message they report.
#include <catch2/catch.hpp>

#include "kernels/byte_offset.hpp"
#include "base/error.hpp"
#include "tests/test_codec_streams.hpp"

using namespace xrd;
using byte_offset::DecodeStatus;
using byte_offset::ElementType;

namespace {
byte_offset::DecodeResult dec(const std::vector<uint8_t>& in, std::vector<int32_t>& out, ElementType t = ElementType::i32) {
  return byte_offset::decode_scalar(in, out, t);
}
}  // namespace

TEST_CASE("reference decoder: each delta width, and the model values", "[codec][reference]") {
  std::vector<int32_t> out(5);
  // +5, 16-bit +1000, 32-bit +100000, 64-bit -100005 (the 0x80 0x00 0x80 / 0x80000000 escape chain), -1
  std::vector<uint8_t> in = {0x05, 0x80, 0xE8, 0x03, 0x80, 0x00, 0x80, 0xA0, 0x86, 0x01, 0x00,
                             0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80};
  const int64_t d64 = -100005;
  for (int k = 0; k < 8; ++k) in.push_back(static_cast<uint8_t>(static_cast<uint64_t>(d64) >> (8 * k)));
  in.push_back(0xFF);
  const auto r = dec(in, out);
  INFO(r.message());
  REQUIRE(r.ok());
  CHECK(r.elements == 5);
  CHECK(r.bytes_used == in.size());
  CHECK(out == std::vector<int32_t>{5, 1005, 101005, 1000, 999});

  std::mt19937_64 rng(1);
  const auto s = test::Stream::random(5000, 0.3, rng);
  std::vector<int32_t> big(5000);
  REQUIRE(dec(s.bytes, big).ok());
  for (size_t i = 0; i < big.size(); ++i) REQUIRE(big[i] == static_cast<int32_t>(s.acc[i]));
}

TEST_CASE("reference decoder: arithmetic wraps modulo 2^32 and 64-bit deltas keep their low 32 bits",
          "[codec][reference]") {
  test::Stream s;
  s.add(7, 2147483647);
  s.add(1, 1);                       // INT32_MAX + 1 wraps to INT32_MIN
  s.add(15, (int64_t(1) << 32) + 5);  // 2^32 + 5 adds 5
  s.add(15, -(int64_t(1) << 40));     // low 32 bits are zero
  std::vector<int32_t> out(4);
  REQUIRE(dec(s.bytes, out).ok());
  CHECK(out == std::vector<int32_t>{INT32_MAX, INT32_MIN, INT32_MIN + 5, INT32_MIN + 5});
}

TEST_CASE("reference decoder: narrow and unsigned element types wrap then extend", "[codec][reference]") {
  test::Stream s;
  s.add(3, 200);     // 200
  s.add(7, 39800);   // 40000
  s.add(7, -40001);  // -1
  s.add(7, 70000);   // 69999
  std::vector<int32_t> out(4);
  std::vector<float> outf(4);
  auto run = [&](ElementType t) {
    REQUIRE(dec(s.bytes, out, t).ok());
    REQUIRE(byte_offset::decode_scalar(s.bytes, outf, t).ok());
    for (size_t i = 0; i < 4; ++i) CHECK(outf[i] == static_cast<float>(out[i]) + (t == ElementType::u32 && out[i] < 0 ? 4294967296.f : 0.f));
  };
  run(ElementType::i8);
  CHECK(out == std::vector<int32_t>{-56, 64, -1, 111});
  run(ElementType::u8);
  CHECK(out == std::vector<int32_t>{200, 64, 255, 111});
  run(ElementType::i16);
  CHECK(out == std::vector<int32_t>{200, -25536, -1, 4463});
  run(ElementType::u16);
  CHECK(out == std::vector<int32_t>{200, 40000, 65535, 4463});
  run(ElementType::i32);
  CHECK(out == std::vector<int32_t>{200, 40000, -1, 69999});
  run(ElementType::u32);  // int32 output keeps the bits; float output is the unsigned value
  CHECK(out == std::vector<int32_t>{200, 40000, -1, 69999});
  CHECK(outf[2] == 4294967295.f);
  CHECK(byte_offset::bits(ElementType::u16) == 16);
  CHECK_FALSE(byte_offset::is_signed(ElementType::u32));
  CHECK(std::string(byte_offset::to_string(ElementType::i32)) == "signed 32-bit integer");
}

TEST_CASE("reference decoder: a stream cut inside an escape reports where the escape began", "[codec][reference]") {
  struct Case {
    std::vector<uint8_t> in;
    size_t offset;
    int bits;
    size_t need;
  };
  const std::vector<Case> cases = {
      {{0x80}, 0, 16, 3},
      {{0x01, 0x80, 0x10}, 1, 16, 3},
      {{0x01, 0x02, 0x80, 0x00, 0x80}, 2, 32, 7},
      {{0x01, 0x80, 0x00, 0x80, 0x01, 0x02, 0x03}, 1, 32, 7},
      {{0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80}, 0, 64, 15},
      {{0x07, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 1, 2, 3, 4, 5, 6, 7}, 1, 64, 15},
  };
  for (const auto& c : cases) {
    std::vector<int32_t> out(4, 0);
    const auto r = dec(c.in, out);
    INFO(r.message());
    CHECK(r.status == DecodeStatus::truncated);
    CHECK(r.error_offset == c.offset);
    CHECK(r.escape_bits == c.bits);
    CHECK(r.escape_bytes == c.need);
    CHECK(r.elements == c.offset);  // one 1-byte delta per byte before the escape
    CHECK_THAT(r.message(), Catch::Contains(std::to_string(c.bits) + "-bit escape at byte " +
                                            std::to_string(c.offset)));
    CHECK_THAT(r.message(), Catch::Contains("expected " + std::to_string(c.need) + " bytes"));
  }
}

TEST_CASE("reference decoder: too few elements and trailing bytes", "[codec][reference]") {
  std::vector<int32_t> out3(3);
  auto r = dec({0x01, 0x80, 0x10, 0x00}, out3);
  CHECK(r.status == DecodeStatus::too_few_elements);
  CHECK(r.elements == 2);
  CHECK(r.error_offset == 4);
  CHECK_THAT(r.message(), Catch::Contains("after 2 of 3 elements"));

  std::vector<int32_t> out2(2);
  r = dec({0x01, 0x02, 0x03, 0x80, 0x00}, out2);
  CHECK(r.status == DecodeStatus::trailing_bytes);
  CHECK(r.elements == 2);
  CHECK(r.error_offset == 2);
  CHECK(out2 == std::vector<int32_t>{1, 3});
  CHECK_THAT(r.message(), Catch::Contains("3 bytes remain"));

  std::vector<int32_t> none;
  CHECK(dec({}, none).ok());
  CHECK(dec({0x00}, none).status == DecodeStatus::trailing_bytes);
  CHECK(dec({}, out2).status == DecodeStatus::too_few_elements);

  try {
    byte_offset::throw_if_failed(dec({0x01, 0x80}, out2));
    FAIL("throw_if_failed did not throw");
  } catch (const Error& e) {
    CHECK(e.where() == "byte 1");
    CHECK_THAT(std::string(e.what()), Catch::Contains("16-bit escape"));
  }
  CHECK_NOTHROW(byte_offset::throw_if_failed(dec({0x01, 0x01}, out2)));
}

TEST_CASE("reference decoder: streams ending right after each escape width decode fully", "[codec][reference]") {
  for (int width : {1, 3, 7, 15}) {
    test::Stream s;
    s.add(1, 3);
    s.add(width, width == 1 ? -3 : 128);
    std::vector<int32_t> out(2);
    const auto r = dec(s.bytes, out);
    INFO("width " << width << ": " << r.message());
    REQUIRE(r.ok());
    CHECK(r.bytes_used == s.bytes.size());
    CHECK(out[1] == static_cast<int32_t>(s.acc[1]));
  }
}
