// The prefix sum of 16 bytes by dot products (vpdpbusd of each 4-byte group, broadcast from memory, with 0/1
// triangular weights), shared by the AVX-512 kernels that have VNNI. Include it only inside a region compiled for
// AVX-512 VNNI (#pragma GCC target): everything here is internal to the including file.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace xrd::byte_offset::kernels {
namespace {

// weights[q] holds, in lane j's 4 bytes, 1 where byte 4q + k of the block is at or before byte j, else 0.
struct Triangle {
  alignas(64) uint8_t weights[4][64];
};
constexpr Triangle make_triangle() {
  Triangle t{};
  for (int q = 0; q < 4; ++q)
    for (int j = 0; j < 16; ++j)
      for (int k = 0; k < 4; ++k) t.weights[q][4 * j + k] = 4 * q + k <= j ? 1 : 0;
  return t;
}
alignas(64) constexpr Triangle kTriangle = make_triangle();

inline int32_t load_group(const uint8_t* b) {
  int32_t v;
  __builtin_memcpy(&v, b, 4);
  return v;
}

// Lane j = sum of the signed bytes b[0..j]: four unsigned-weight x signed-byte dot products, two chains.
struct DotPrefix {
  static __m512i block(const uint8_t* b) {
    const auto* w = reinterpret_cast<const __m512i*>(kTriangle.weights);
    const __m512i z = _mm512_setzero_si512();
    __m512i d0 = _mm512_dpbusd_epi32(z, _mm512_load_si512(w), _mm512_set1_epi32(load_group(b)));
    __m512i d1 = _mm512_dpbusd_epi32(z, _mm512_load_si512(w + 1), _mm512_set1_epi32(load_group(b + 4)));
    d0 = _mm512_dpbusd_epi32(d0, _mm512_load_si512(w + 2), _mm512_set1_epi32(load_group(b + 8)));
    d1 = _mm512_dpbusd_epi32(d1, _mm512_load_si512(w + 3), _mm512_set1_epi32(load_group(b + 12)));
    return _mm512_add_epi32(d0, d1);
  }
};

}  // namespace
}  // namespace xrd::byte_offset::kernels
