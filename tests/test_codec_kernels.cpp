// Every fast byte-offset kernel this CPU runs against the scalar reference, bit for bit: random streams with
// escapes of mixed widths at every position, escape densities from 0 to 100%, runs of 16-, 32- and 64-bit escapes,
// 0x80 bytes inside escapes, every cut of a stream, wrong element counts, all element types, int32 and float outputs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>

#include "kernels/byte_offset.hpp"
#include "tests/test_codec_streams.hpp"

using namespace xrd;

namespace {

bool same_result(const byte_offset::DecodeResult& a, const byte_offset::DecodeResult& b) {
  return a.status == b.status && a.elements == b.elements && a.bytes_used == b.bytes_used &&
         a.error_offset == b.error_offset && a.escape_bits == b.escape_bits && a.escape_bytes == b.escape_bytes &&
         a.stream_size == b.stream_size && a.elements_expected == b.elements_expected;
}

// Runs every supported kernel on (in, n elements, t) and compares results and the valid outputs with the reference.
// Returns the reference result so callers can also check it against the model.
byte_offset::DecodeResult check_against_reference(std::span<const uint8_t> in, size_t n, byte_offset::ElementType t) {
  std::vector<int32_t> ref(n), got(n);
  std::vector<float> reff(n), gotf(n);
  const auto r = byte_offset::decode_scalar(in, ref, t);
  const auto rf = byte_offset::decode_scalar(in, reff, t);
  REQUIRE(same_result(r, rf));
  for (const auto& k : byte_offset::decoder_kernels()) {
    if (!k.supported()) continue;
    std::fill(got.begin(), got.end(), 0x7a7a7a7a);
    std::fill(gotf.begin(), gotf.end(), -7.f);
    const auto g = k.decode_i32(in, got, t);
    const auto gf = k.decode_f32(in, gotf, t);
    INFO("kernel " << k.name << ", type " << byte_offset::to_string(t) << ", " << in.size() << " bytes, " << n
                   << " elements; reference: " << r.message() << "; kernel: " << g.message());
    REQUIRE(same_result(g, r));
    REQUIRE(same_result(gf, r));
    REQUIRE(std::equal(got.begin(), got.begin() + r.elements, ref.begin()));
    // Bitwise, so that -0.f or a NaN could not pass for a match.
    REQUIRE(std::equal(gotf.begin(), gotf.begin() + r.elements, reff.begin(),
                       [](float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }));
  }
  return r;
}

void check_model(const test::Stream& s, byte_offset::ElementType t) {
  const size_t n = s.acc.size();
  std::vector<int32_t> out(n);
  std::vector<float> outf(n);
  REQUIRE(byte_offset::decode(s.bytes, out, t).ok());
  REQUIRE(byte_offset::decode(s.bytes, outf, t).ok());
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = test::model_value(s.acc[i], t);
    REQUIRE(out[i] == static_cast<int32_t>(static_cast<uint32_t>(v)));
    REQUIRE(outf[i] == static_cast<float>(v));
  }
}

}  // namespace

TEST_CASE("the kernel list ends with the scalar reference and decode() uses a supported kernel", "[codec][kernels]") {
  const auto ks = byte_offset::decoder_kernels();
  REQUIRE(!ks.empty());
  CHECK(std::string(ks.back().name) == "scalar");
  CHECK(ks.back().supported());
  bool found = false;
  for (const auto& k : ks) {
    if (std::string(k.name) == byte_offset::fast_decoder_name()) {
      found = true;
      CHECK(k.supported());
      break;  // the first supported one is the choice
    }
    CHECK_FALSE(k.supported());
  }
  CHECK(found);
  WARN("fast decoder on this CPU: " << byte_offset::fast_decoder_name());
}

TEST_CASE("kernels match the reference on random streams of every escape density", "[codec][kernels]") {
  std::mt19937_64 rng(7);
  for (double p : {0.0, 0.003, 0.012, 0.05, 0.3, 0.9, 1.0}) {
    for (size_t n : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(65), size_t(200), size_t(5000)}) {
      const auto s = test::Stream::random(n, p, rng);
      for (auto t : test::kAllTypes) {
        check_against_reference(s.bytes, n, t);
        check_model(s, t);
      }
    }
  }
  // A long stream like a real frame (~1.2% escapes), where the fast path spends its time.
  const auto s = test::Stream::random(300000, 0.012, rng);
  for (auto t : test::kAllTypes) check_against_reference(s.bytes, s.acc.size(), t);
  check_model(s, byte_offset::ElementType::i32);
}

TEST_CASE("kernels match the reference with escape runs of mixed widths at every position", "[codec][kernels]") {
  std::mt19937_64 rng(11);
  constexpr size_t kLen = 300;
  for (size_t at = 0; at < kLen; ++at) {
    const size_t run = 1 + at % 5;
    test::Stream s;
    for (size_t i = 0; i < kLen; ++i) {
      if (i >= at && i < at + run) {
        const int width = (i + at) % 3 == 0 ? 3 : (i + at) % 3 == 1 ? 7 : 15;
        s.add(width, test::Stream::random_delta(width, rng));
      } else {
        s.add(1, test::Stream::random_delta(1, rng));
      }
    }
    INFO("escape run of " << run << " at element " << at);
    for (auto t : {byte_offset::ElementType::i32, byte_offset::ElementType::u32, byte_offset::ElementType::i16}) {
      const auto r = check_against_reference(s.bytes, kLen, t);
      REQUIRE(r.ok());
    }
    check_model(s, byte_offset::ElementType::i32);
  }
}

TEST_CASE("kernels match the reference on every cut of a stream and on wrong element counts", "[codec][kernels]") {
  std::mt19937_64 rng(3);
  const auto s = test::Stream::random(400, 0.08, rng);
  const std::span<const uint8_t> all(s.bytes);
  size_t truncated = 0, too_few = 0;
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    const auto r = check_against_reference(all.first(cut), s.acc.size(), byte_offset::ElementType::i32);
    truncated += r.status == byte_offset::DecodeStatus::truncated;
    too_few += r.status == byte_offset::DecodeStatus::too_few_elements;
  }
  CHECK(truncated > 50);  // the cuts did land inside escapes of each width
  CHECK(too_few > 300);
  // Asking for fewer elements than the stream holds leaves trailing bytes at the next element's start.
  for (size_t n = 0; n < s.acc.size(); n += 7) {
    const auto r = check_against_reference(all, n, byte_offset::ElementType::i32);
    CHECK(r.status == byte_offset::DecodeStatus::trailing_bytes);
    CHECK(r.error_offset == s.starts[n]);
  }
  for (size_t extra : {1, 2, 64, 1000}) {
    const auto r = check_against_reference(all, s.acc.size() + extra, byte_offset::ElementType::u16);
    CHECK(r.status == byte_offset::DecodeStatus::too_few_elements);
  }
}

namespace {

// A stream of n elements where a fraction `density` of the deltas are escapes of `width` bytes (3, 7 or 15), placed
// at random, and `inside_80` of those escapes have a 0x80 byte in their payload (deltas 128, -128, -32640).
test::Stream density_stream(size_t n, double density, int width, double inside_80, std::mt19937_64& rng) {
  test::Stream s;
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t i = 0; i < n; ++i) {
    if (u(rng) >= density) {
      s.add(1, test::Stream::random_delta(1, rng));
    } else if (u(rng) < inside_80) {
      const double k = u(rng);
      s.add(width, k < 0.4 ? 128 : k < 0.8 ? -128 : -32640);
    } else {
      // Shortest-form escapes (the encoder's) most of the time, so the kernels' 16-bit paths are what is tested.
      int64_t d = test::Stream::random_delta(width, rng);
      if (width == 3 && d > -128 && d < 128) d += d < 0 ? -128 : 128;
      s.add(width, d);
    }
  }
  return s;
}

}  // namespace

TEST_CASE("kernels match the reference at escape densities 0, 1, 10, 50 and 100%", "[codec][kernels]") {
  std::mt19937_64 rng(29);
  for (double density : {0.0, 0.01, 0.1, 0.5, 1.0}) {
    for (double inside_80 : {0.0, 0.05}) {
      INFO("16-bit escapes: " << density * 100 << "% of the deltas, " << inside_80 * 100 << "% of them with 0x80 inside");
      const auto s = density_stream(20000, density, 3, inside_80, rng);
      for (auto t : {byte_offset::ElementType::i32, byte_offset::ElementType::u16, byte_offset::ElementType::u32}) {
        const auto r = check_against_reference(s.bytes, s.acc.size(), t);
        REQUIRE(r.ok());
      }
      check_model(s, byte_offset::ElementType::i32);
    }
  }
}

TEST_CASE("kernels match the reference on runs of 32-bit and 64-bit escapes", "[codec][kernels]") {
  std::mt19937_64 rng(31);
  for (int width : {7, 15}) {
    for (double density : {0.01, 0.1, 0.5, 1.0}) {
      INFO(width << "-byte escapes: " << density * 100 << "% of the deltas");
      const auto s = density_stream(5000, density, width, 0.0, rng);
      const auto r = check_against_reference(s.bytes, s.acc.size(), byte_offset::ElementType::i32);
      REQUIRE(r.ok());
      check_model(s, byte_offset::ElementType::i32);
    }
  }
  // Runs of each width (1 to 40 long) between runs of single bytes, then every cut of one such stream.
  test::Stream s;
  for (int run = 1; run <= 40; ++run) {
    const int width = run % 3 == 0 ? 3 : run % 3 == 1 ? 7 : 15;
    for (int k = 0; k < run; ++k) s.add(width, test::Stream::random_delta(width, rng));
    for (int k = 0; k < 1 + run % 7; ++k) s.add(1, test::Stream::random_delta(1, rng));
  }
  REQUIRE(check_against_reference(s.bytes, s.acc.size(), byte_offset::ElementType::i32).ok());
  check_model(s, byte_offset::ElementType::i32);
  const std::span<const uint8_t> all(s.bytes);
  for (size_t cut = 0; cut < all.size(); cut += 3)
    check_against_reference(all.first(cut), s.acc.size(), byte_offset::ElementType::i32);
}

TEST_CASE("kernels match the reference with a 16-bit escape across every step boundary", "[codec][kernels]") {
  // The SIMD kernels read 64-byte steps; an escape whose marker is at step byte 62 or 63 ends in the next step,
  // where its payload may hold 0x80 or be the start of a 32-bit escape. Shift such streams byte by byte.
  std::mt19937_64 rng(37);
  for (size_t lead = 0; lead < 130; ++lead) {
    for (int64_t d : {int64_t(300), int64_t(128), int64_t(-128), int64_t(-32640), int64_t(100000)}) {
      test::Stream s;
      for (size_t i = 0; i < lead; ++i) s.add(1, test::Stream::random_delta(1, rng));
      s.add(d == 100000 ? 7 : 3, d);
      s.add(3, lead % 2 ? 1000 : -1000);
      for (size_t i = 0; i < 200; ++i) s.add(i % 5 == 0 ? 3 : 1, test::Stream::random_delta(i % 5 == 0 ? 3 : 1, rng));
      INFO("escape with delta " << d << " after " << lead << " single bytes");
      REQUIRE(check_against_reference(s.bytes, s.acc.size(), byte_offset::ElementType::i32).ok());
      check_model(s, byte_offset::ElementType::i32);
      // Stop just inside the escapes too (the kernels' last step may end in one).
      check_against_reference(std::span<const uint8_t>(s.bytes).first(lead + 2), s.acc.size(), byte_offset::ElementType::i32);
    }
  }
}

TEST_CASE("kernels match the reference at every element count and every cut of escape-dense streams",
          "[codec][kernels]") {
  // The SIMD loops stop when fewer than 80 stream bytes or 64 outputs are left, and read the next step's markers
  // one step ahead (after an escape-free step, an escape step or a 32/64-bit escape): every stop position, with the
  // steps before it of each kind.
  std::mt19937_64 rng(41);
  for (double p : {0.02, 0.3, 1.0}) {
    const auto s = test::Stream::random(700, p, rng);
    const std::span<const uint8_t> all(s.bytes);
    INFO(p * 100 << "% escapes, " << all.size() << " bytes");
    size_t trailing = 0, too_few = 0, truncated = 0;
    for (size_t n = 0; n <= s.acc.size() + 1; ++n) {
      const auto r = check_against_reference(all, n, byte_offset::ElementType::i32);
      trailing += r.status == byte_offset::DecodeStatus::trailing_bytes;
    }
    for (size_t cut = 0; cut <= all.size(); ++cut) {
      const auto r = check_against_reference(all.first(cut), s.acc.size(), byte_offset::ElementType::i32);
      too_few += r.status == byte_offset::DecodeStatus::too_few_elements;
      truncated += r.status == byte_offset::DecodeStatus::truncated;
    }
    CHECK(trailing == s.acc.size());  // every count but the full one and the one past it leaves bytes
    CHECK(too_few + truncated == all.size());  // every cut but the whole stream is short
    if (p >= 0.3) CHECK(truncated > 100);
  }
}

TEST_CASE("kernels match the reference when the stream starts with an escape or ends its first step in one",
          "[codec][kernels]") {
  // The avx512vbmi2 kernel's escape step reads the byte before its step (an escape's low byte left behind by the
  // previous step), so it takes the stream's first token in scalar code and starts its steps after it: a first
  // token of each width, 0x80 in its payload, then escapes at each offset of the first steps, for element counts
  // and stream lengths around where the SIMD loop starts to run (64 outputs, 80 stream bytes). The stream is a
  // vector of its own size, so a read before its start is out of bounds (ASan).
  std::mt19937_64 rng(43);
  for (int first : {1, 3, 7, 15}) {
    for (int64_t d : {int64_t(5), int64_t(-128), int64_t(128), int64_t(-32640), int64_t(30000)}) {
      for (size_t at = 0; at < 70; at += 3) {
        test::Stream s;
        const int64_t d0 = first == 1 ? d % 128 : d;
        s.add(first, d0);
        for (size_t i = 1; i < 160; ++i) {
          const bool esc = i >= at && (i - at) % 9 < 2;
          s.add(esc ? 3 : 1, esc ? test::Stream::random_delta(3, rng) : test::Stream::random_delta(1, rng));
        }
        INFO("first token " << first << " bytes (delta " << d0 << "), escapes from element " << at);
        for (size_t n : {size_t(63), size_t(64), size_t(65), size_t(66), size_t(100), s.acc.size()}) {
          const std::vector<uint8_t> bytes(s.bytes);  // exactly the stream, nothing before or after it
          const auto r = check_against_reference(bytes, n, byte_offset::ElementType::i32);
          if (n == s.acc.size()) REQUIRE(r.ok());
        }
        for (size_t cut : {size_t(79), size_t(80), size_t(81), size_t(94), size_t(95), size_t(96), size_t(144)})
          if (cut <= s.bytes.size()) {
            const std::vector<uint8_t> bytes(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
            check_against_reference(bytes, s.acc.size(), byte_offset::ElementType::i32);
          }
        check_model(s, byte_offset::ElementType::i32);
      }
    }
  }
}

TEST_CASE("kernels match the reference with 1, 2 or 8 escapes in a step at every position", "[codec][kernels]") {
  // The avx2 escape step builds each element where its token ends (an escape's high byte takes its low byte from
  // the byte before, also across the step boundary) and its plan walks only the 0x80 bytes within two bytes of
  // another: groups of 1, 2 and 8 16-bit escapes, adjacent or with singles between them, at every offset of the
  // first steps, with 0x80 in their payloads (deltas 128, -32640 = 0x8080, -128 = 0xff80) and with a 32-bit escape
  // right after the group; all element types.
  std::mt19937_64 rng(47);
  for (size_t lead = 0; lead < 140; ++lead) {
    for (int count : {1, 2, 8}) {
      for (int gap : {0, 1, 4}) {
        for (int64_t d : {int64_t(0), int64_t(128), int64_t(-32640), int64_t(-128), int64_t(100000)}) {
          test::Stream s;
          for (size_t i = 0; i < lead; ++i) s.add(1, test::Stream::random_delta(1, rng));
          for (int e = 0; e < count; ++e) {
            // d == 0: random 16-bit deltas; 100000: random ones, then a 32-bit escape after the group.
            s.add(3, d == 0 || d == 100000 ? test::Stream::random_delta(3, rng) : d);
            for (int g = 0; g < gap; ++g) s.add(1, test::Stream::random_delta(1, rng));
          }
          if (d == 100000) s.add(7, d);
          for (size_t i = 0; i < 150; ++i) s.add(1, test::Stream::random_delta(1, rng));
          INFO(count << " escapes (delta " << d << ", " << gap << " single bytes between) after " << lead
                     << " single bytes");
          const std::vector<uint8_t> bytes(s.bytes);  // exactly the stream (ASan: no read before or after it)
          const auto types = lead % 7 == 0 ? std::vector<byte_offset::ElementType>(std::begin(test::kAllTypes),
                                                                                    std::end(test::kAllTypes))
                                           : std::vector<byte_offset::ElementType>{byte_offset::ElementType::i32};
          for (auto t : types) REQUIRE(check_against_reference(bytes, s.acc.size(), t).ok());
          check_model(s, byte_offset::ElementType::i32);
        }
      }
    }
  }
}
