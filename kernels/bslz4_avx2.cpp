// AVX2 bit-unshuffle: per byte plane j and 4 columns (32 elements), one gather loads the 8 bit rows' 4-byte pieces,
// a byte shuffle + dword permute make one 8x8 bit matrix per column, 8 shift + movemask steps transpose the bits
// (one output bit plane each), the same shuffle puts the 32 plane-j bytes in element order; 2 or 4 planes are then
// interleaved into element bytes.
#include <immintrin.h>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_kernels.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,popcnt")

namespace xrd::bslz4::simd {
namespace {

// 4x4 byte transpose within each lane (dword a, byte b -> dword b, byte a), then the lanes' dwords interleaved: a
// register of 8 dwords x 4 bytes becomes 4 qwords x 8 bytes.
inline __m256i regroup(__m256i v) {
  const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,  //
                                        0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, shuf), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

template <int E>
inline int plane_bit(__m256i v) {
  return _mm256_movemask_epi8(_mm256_slli_epi64(v, 7 - E));
}

inline __m256i plane(const uint8_t* base, __m256i rows) {
  const __m256i q = regroup(_mm256_i32gather_epi32(reinterpret_cast<const int*>(base), rows, 1));
  const __m256i masks = _mm256_setr_epi32(plane_bit<0>(q), plane_bit<1>(q), plane_bit<2>(q), plane_bit<3>(q),
                                          plane_bit<4>(q), plane_bit<5>(q), plane_bit<6>(q), plane_bit<7>(q));
  return regroup(masks);
}

inline void store(uint8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

template <size_t S>
void run(const uint8_t* in, size_t n, uint8_t* out) {
  const size_t m = n / 8;
  const size_t groups = m / 4;
  const int mi = static_cast<int>(m);
  const __m256i rows = _mm256_setr_epi32(0, mi, 2 * mi, 3 * mi, 4 * mi, 5 * mi, 6 * mi, 7 * mi);
  for (size_t g = 0; g < groups; ++g) {
    __m256i p[S];
    for (size_t j = 0; j < S; ++j) p[j] = plane(in + 8 * j * m + 4 * g, rows);
    uint8_t* o = out + 32 * g * S;
    if constexpr (S == 1) {
      store(o, p[0]);
    } else if constexpr (S == 2) {
      const __m256i lo = _mm256_unpacklo_epi8(p[0], p[1]), hi = _mm256_unpackhi_epi8(p[0], p[1]);
      store(o, _mm256_permute2x128_si256(lo, hi, 0x20));
      store(o + 32, _mm256_permute2x128_si256(lo, hi, 0x31));
    } else {
      const __m256i a_lo = _mm256_unpacklo_epi8(p[0], p[1]), a_hi = _mm256_unpackhi_epi8(p[0], p[1]);
      const __m256i b_lo = _mm256_unpacklo_epi8(p[2], p[3]), b_hi = _mm256_unpackhi_epi8(p[2], p[3]);
      const __m256i c0 = _mm256_unpacklo_epi16(a_lo, b_lo), c1 = _mm256_unpackhi_epi16(a_lo, b_lo);
      const __m256i c2 = _mm256_unpacklo_epi16(a_hi, b_hi), c3 = _mm256_unpackhi_epi16(a_hi, b_hi);
      store(o, _mm256_permute2x128_si256(c0, c1, 0x20));
      store(o + 32, _mm256_permute2x128_si256(c2, c3, 0x20));
      store(o + 64, _mm256_permute2x128_si256(c0, c1, 0x31));
      store(o + 96, _mm256_permute2x128_si256(c2, c3, 0x31));
    }
  }
  detail::unshuffle_columns(in, n, S, groups * 4, m, out);
}

}  // namespace

bool avx2_supported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2"); }

void avx2_unshuffle(const uint8_t* in, size_t n, size_t s, uint8_t* out) {
  switch (s) {
    case 1: return run<1>(in, n, out);
    case 2: return run<2>(in, n, out);
    case 4: return run<4>(in, n, out);
    default: return detail::unshuffle_columns(in, n, s, 0, n / 8, out);
  }
}

}  // namespace xrd::bslz4::simd

#pragma GCC pop_options
