// The byte-offset encoder: the shortest stream (1, 3, 7 or 15 bytes per delta), byte-identical to fabio's.
#include <cstdint>
#include <limits>

#include "kernels/byte_offset.hpp"

namespace xrd::byte_offset {
namespace {

// Differences modulo 2^32: decoders wrap, so a jump from INT32_MIN to INT32_MAX is the 1-byte delta -1 (fabio
// writes it so too). Only a difference of exactly INT32_MIN needs the 64-bit escape.
inline int32_t delta_of(int32_t v, int32_t prev) {
  return static_cast<int32_t>(static_cast<uint32_t>(v) - static_cast<uint32_t>(prev));
}
inline size_t delta_size(int32_t d) {
  if (d >= -127 && d <= 127) return 1;
  if (d > std::numeric_limits<int16_t>::min() && d <= std::numeric_limits<int16_t>::max()) return 3;
  if (d > std::numeric_limits<int32_t>::min()) return 7;
  return 15;
}

inline uint8_t* put_le(uint8_t* o, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) *o++ = static_cast<uint8_t>(v >> (8 * k));
  return o;
}

}  // namespace

size_t encoded_size(std::span<const int32_t> in) {
  size_t total = 0;
  int32_t prev = 0;
  for (int32_t v : in) {
    total += delta_size(delta_of(v, prev));
    prev = v;
  }
  return total;
}

void encode(std::span<const int32_t> in, std::vector<uint8_t>& out) {
  // Sized once up front: no reallocation inside the loop, and resize() keeps the caller's capacity.
  out.resize(encoded_size(in));
  uint8_t* o = out.data();
  int32_t prev = 0;
  for (int32_t v : in) {
    const int32_t d = delta_of(v, prev);
    prev = v;
    switch (delta_size(d)) {
      case 1:
        *o++ = static_cast<uint8_t>(d);
        break;
      case 3:
        *o++ = 0x80;
        o = put_le(o, static_cast<uint64_t>(int64_t(d)), 2);
        break;
      case 7:
        *o++ = 0x80;
        o = put_le(o, 0x8000, 2);
        o = put_le(o, static_cast<uint64_t>(int64_t(d)), 4);
        break;
      default:
        *o++ = 0x80;
        o = put_le(o, 0x8000, 2);
        o = put_le(o, 0x80000000u, 4);
        o = put_le(o, static_cast<uint64_t>(int64_t(d)), 8);
        break;
    }
  }
}

}  // namespace xrd::byte_offset
