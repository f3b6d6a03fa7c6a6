// Byte-offset streams for the codec tests, built escape by escape (also non-shortest ones an encoder never writes),
// with the values they must decode to computed independently of the decoders.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/byte_offset.hpp"

namespace xrd::test {

struct Stream {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> acc;    // running value after each element, modulo 2^32
  std::vector<size_t> starts;   // byte offset where each element starts
  uint32_t running = 0;

  // Appends one delta written with `width` bytes (1, 3, 7 or 15); the delta must fit that width's field.
  void add(int width, int64_t d) {
    starts.push_back(bytes.size());
    auto put = [&](uint64_t v, int n) {
      for (int k = 0; k < n; ++k) bytes.push_back(static_cast<uint8_t>(v >> (8 * k)));
    };
    if (width == 1) {
      put(static_cast<uint64_t>(d), 1);
    } else {
      bytes.push_back(0x80);
      if (width == 3) put(static_cast<uint64_t>(d), 2);
      else put(0x8000, 2);
      if (width == 7) put(static_cast<uint64_t>(d), 4);
      else if (width == 15) put(0x80000000u, 4), put(static_cast<uint64_t>(d), 8);
    }
    running += static_cast<uint32_t>(static_cast<uint64_t>(d));
    acc.push_back(running);
  }

  // A random delta that fits `width` bytes but not necessarily a shorter width (non-shortest forms included).
  static int64_t random_delta(int width, std::mt19937_64& rng) {
    switch (width) {
      case 1: return std::uniform_int_distribution<int>(-127, 127)(rng);
      case 3: return std::uniform_int_distribution<int>(-32767, 32767)(rng);
      case 7: return std::uniform_int_distribution<int64_t>(-2147483647, 2147483647)(rng);
      default: return static_cast<int64_t>(rng());
    }
  }

  // n elements; each escape with probability p_escape, its width 3 (mostly), 7 or 15. Deltas of 128, -128 and
  // -32640 put 0x80 bytes inside escapes, which a marker search must not take for markers.
  static Stream random(size_t n, double p_escape, std::mt19937_64& rng) {
    Stream s;
    std::uniform_real_distribution<double> u(0, 1);
    for (size_t i = 0; i < n; ++i) {
      if (u(rng) >= p_escape) {
        s.add(1, random_delta(1, rng));
        continue;
      }
      const double w = u(rng);
      const int width = w < 0.7 ? 3 : w < 0.9 ? 7 : 15;
      const double special = u(rng);
      if (special < 0.1) s.add(width, 128);
      else if (special < 0.2) s.add(width, -128);
      else if (special < 0.25) s.add(width, -32640);  // 0x8080
      else s.add(width, random_delta(width, rng));
    }
    return s;
  }
};

inline constexpr byte_offset::ElementType kAllTypes[] = {byte_offset::ElementType::i8,  byte_offset::ElementType::u8,  byte_offset::ElementType::i16,
                                                 byte_offset::ElementType::u16, byte_offset::ElementType::i32, byte_offset::ElementType::u32};

// The value a running sum stands for in element type t (wrapped to its width, then sign/zero-extended).
inline int64_t model_value(uint32_t acc, byte_offset::ElementType t) {
  switch (t) {
    case byte_offset::ElementType::i8: return static_cast<int8_t>(acc & 0xff);
    case byte_offset::ElementType::u8: return acc & 0xff;
    case byte_offset::ElementType::i16: return static_cast<int16_t>(acc & 0xffff);
    case byte_offset::ElementType::u16: return acc & 0xffff;
    case byte_offset::ElementType::i32: return static_cast<int32_t>(acc);
    case byte_offset::ElementType::u32: return acc;
  }
  return 0;
}

}  // namespace xrd::test
