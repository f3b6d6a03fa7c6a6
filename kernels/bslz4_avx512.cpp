// AVX-512 bit-unshuffle (F/BW/VBMI + GFNI): per byte plane j and 8 columns (64 elements), one gather loads the 8 bit
// rows' 8-byte pieces, VBMI's byte permute turns them into one 8x8 bit matrix per column, GFNI's affine transposes
// the bits (64 plane-j bytes), and 2 or 4 planes are interleaved into element bytes before one store per 64 bytes.
#include <immintrin.h>

#include <array>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_kernels.hpp"

// The permutation tables, computed at compile time (no AVX-512 code may run before the run-time check).
namespace xrd::bslz4::simd::tables {
template <class F>
constexpr std::array<uint8_t, 64> table(F f) {
  std::array<uint8_t, 64> t{};
  for (int i = 0; i < 64; ++i) t[i] = static_cast<uint8_t>(f(i));
  return t;
}
// Column c's byte p <- row 7 - p of column c (GFNI reads matrix rows from the top byte down).
alignas(64) constexpr auto kTranspose = table([](int i) { return (7 - i % 8) * 8 + i / 8; });
// Byte interleave of two registers (low / high halves), and 16-bit word interleave.
alignas(64) constexpr auto kIlv8Lo = table([](int i) { return (i % 2 ? 64 : 0) + i / 2; });
alignas(64) constexpr auto kIlv8Hi = table([](int i) { return (i % 2 ? 64 : 0) + 32 + i / 2; });
alignas(64) constexpr std::array<uint16_t, 32> kIlv16Lo = [] {
  std::array<uint16_t, 32> t{};
  for (int i = 0; i < 32; ++i) t[i] = static_cast<uint16_t>((i % 2 ? 32 : 0) + i / 2);
  return t;
}();
alignas(64) constexpr std::array<uint16_t, 32> kIlv16Hi = [] {
  std::array<uint16_t, 32> t{};
  for (int i = 0; i < 32; ++i) t[i] = static_cast<uint16_t>((i % 2 ? 32 : 0) + 16 + i / 2);
  return t;
}();

}  // namespace xrd::bslz4::simd::tables

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vbmi,gfni")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace xrd::bslz4::simd {
namespace {
using namespace tables;

inline __m512i load(const void* p) { return _mm512_load_si512(p); }

template <size_t S>
void run(const uint8_t* in, size_t n, uint8_t* out) {
  const size_t m = n / 8;
  const size_t groups = m / 8;
  const __m512i rows = _mm512_setr_epi64(0, m, 2 * m, 3 * m, 4 * m, 5 * m, 6 * m, 7 * m);
  const __m512i tr = load(kTranspose.data());
  const __m512i unit = _mm512_set1_epi64(static_cast<long long>(0x8040201008040201ULL));
  for (size_t g = 0; g < groups; ++g) {
    __m512i p[S];
    for (size_t j = 0; j < S; ++j) {
      const __m512i q = _mm512_i64gather_epi64(rows, in + 8 * j * m + 8 * g, 1);
      p[j] = _mm512_gf2p8affine_epi64_epi8(unit, _mm512_permutexvar_epi8(tr, q), 0);
    }
    uint8_t* o = out + 64 * g * S;
    if constexpr (S == 1) {
      _mm512_storeu_si512(o, p[0]);
    } else if constexpr (S == 2) {
      _mm512_storeu_si512(o, _mm512_permutex2var_epi8(p[0], load(kIlv8Lo.data()), p[1]));
      _mm512_storeu_si512(o + 64, _mm512_permutex2var_epi8(p[0], load(kIlv8Hi.data()), p[1]));
    } else {
      const __m512i lo8 = load(kIlv8Lo.data()), hi8 = load(kIlv8Hi.data());
      const __m512i lo16 = load(kIlv16Lo.data()), hi16 = load(kIlv16Hi.data());
      const __m512i a_lo = _mm512_permutex2var_epi8(p[0], lo8, p[1]), a_hi = _mm512_permutex2var_epi8(p[0], hi8, p[1]);
      const __m512i b_lo = _mm512_permutex2var_epi8(p[2], lo8, p[3]), b_hi = _mm512_permutex2var_epi8(p[2], hi8, p[3]);
      _mm512_storeu_si512(o, _mm512_permutex2var_epi16(a_lo, lo16, b_lo));
      _mm512_storeu_si512(o + 64, _mm512_permutex2var_epi16(a_lo, hi16, b_lo));
      _mm512_storeu_si512(o + 128, _mm512_permutex2var_epi16(a_hi, lo16, b_hi));
      _mm512_storeu_si512(o + 192, _mm512_permutex2var_epi16(a_hi, hi16, b_hi));
    }
  }
  detail::unshuffle_columns(in, n, S, groups * 8, m, out);
}

}  // namespace

bool avx512_supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni");
}

void avx512_unshuffle(const uint8_t* in, size_t n, size_t s, uint8_t* out) {
  switch (s) {
    case 1: return run<1>(in, n, out);
    case 2: return run<2>(in, n, out);
    case 4: return run<4>(in, n, out);
    default: return detail::unshuffle_columns(in, n, s, 0, n / 8, out);
  }
}

}  // namespace xrd::bslz4::simd

#pragma GCC diagnostic pop
#pragma GCC pop_options
