// Register helpers shared by the AVX-512 byte-offset kernels. Include it only inside a region compiled for
// AVX-512 (#pragma GCC target): everything here is internal to the including file.
#pragma once
#include <immintrin.h>

#include <type_traits>

#include "kernels/byte_offset.hpp"

namespace xrd::byte_offset::kernels {
namespace {

// Inclusive prefix sum of 16 int32 lanes: log2(16) shifted adds across the whole register.
inline __m512i prefix16(__m512i x) {
  const __m512i z = _mm512_setzero_si512();
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 15));
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 14));
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 12));
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, z, 8));
  return x;
}

inline __m512i widen16(const uint8_t* b) {
  return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
}

// Running 32-bit values -> element type T (wrap to its width, extend) -> Out, stored unaligned.
template <ElementType T, typename Out>
inline void store(Out* o, __m512i v) {
  if constexpr (T == ElementType::i8) v = _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24);
  if constexpr (T == ElementType::u8) v = _mm512_and_si512(v, _mm512_set1_epi32(0xff));
  if constexpr (T == ElementType::i16) v = _mm512_srai_epi32(_mm512_slli_epi32(v, 16), 16);
  if constexpr (T == ElementType::u16) v = _mm512_and_si512(v, _mm512_set1_epi32(0xffff));
  if constexpr (std::is_same_v<Out, float>) {
    const __m512 f = T == ElementType::u32 ? _mm512_cvtepu32_ps(v) : _mm512_cvtepi32_ps(v);
    _mm512_storeu_ps(o, f);
  } else {
    _mm512_storeu_si512(o, v);
  }
}

}  // namespace
}  // namespace xrd::byte_offset::kernels
