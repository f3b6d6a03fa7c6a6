// AVX2 byte-offset kernel: the AVX-512 kernel's plan (64 stream bytes per step, register prefix sums up to the
// first 0x80 marker, escape runs in scalar code) with 8-lane registers, for x86-64 CPUs without AVX-512.
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX2 (headers above keep the default target, so their inline functions never
// carry AVX2 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,popcnt")

namespace xrd::bo::kernels {
namespace {

// Inclusive prefix sum of 8 int32 lanes: two in-lane shifted adds, then the low half's total into the high half.
inline __m256i prefix8(__m256i x) {
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
  const __m256i low_total = _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xFF);
  return _mm256_add_epi32(x, low_total);
}

inline __m256i widen8(const uint8_t* b) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)));
}

inline __m256i last_lane(__m256i x) { return _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(7)); }

// Running 32-bit values -> element type T (wrap to its width, extend) -> Out, stored unaligned.
template <ElementType T, typename Out>
inline void store(Out* o, __m256i v) {
  if constexpr (T == ElementType::i8) v = _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24);
  if constexpr (T == ElementType::u8) v = _mm256_and_si256(v, _mm256_set1_epi32(0xff));
  if constexpr (T == ElementType::i16) v = _mm256_srai_epi32(_mm256_slli_epi32(v, 16), 16);
  if constexpr (T == ElementType::u16) v = _mm256_and_si256(v, _mm256_set1_epi32(0xffff));
  if constexpr (std::is_same_v<Out, float>) {
    __m256 f;
    if constexpr (T == ElementType::u32) {
      // No unsigned conversion before AVX-512: both 16-bit halves convert exactly, and the one rounding
      // happens in the final add, as in a direct conversion.
      const __m256 hi = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 16)), _mm256_set1_ps(65536.f));
      f = _mm256_add_ps(hi, _mm256_cvtepi32_ps(_mm256_and_si256(v, _mm256_set1_epi32(0xffff))));
    } else {
      f = _mm256_cvtepi32_ps(v);
    }
    _mm256_storeu_ps(o, f);
  } else {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), v);
  }
}

template <ElementType T, typename Out>
DecodeResult run(std::span<const uint8_t> in, std::span<Out> out) {
  const uint8_t* p = in.data();
  const size_t n = in.size(), nout = out.size();
  Out* o = out.data();
  size_t pos = 0, i = 0;
  uint32_t acc = 0;
  DecodeResult r;
  // pre[7] = 0 and pre[8 + j] = sum of the step's first j + 1 deltas, so pre[7 + k] is the sum before byte k
  // (k < 64: the marker's position).
  alignas(32) int32_t pre[72];
  pre[7] = 0;
  const __m256i marker = _mm256_set1_epi8(static_cast<char>(0x80));
  // Room for a whole step and the longest escape after it, and for 64 outputs: no bounds checks inside.
  while (pos + 80 <= n && i + 64 <= nout) {
    const uint8_t* b = p + pos;
    const uint32_t m_lo = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), marker)));
    const uint32_t m_hi = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32)), marker)));
    __m256i s[8];
    for (int j = 0; j < 8; ++j) s[j] = prefix8(widen8(b + 8 * j));
    for (int j = 1; j < 8; ++j) s[j] = _mm256_add_epi32(s[j], last_lane(s[j - 1]));
    // Values past a marker are garbage; later steps overwrite them (i + 64 <= nout keeps them inside).
    const __m256i base = _mm256_set1_epi32(static_cast<int>(acc));
    for (int j = 0; j < 8; ++j) store<T>(o + i + 8 * j, _mm256_add_epi32(s[j], base));
    const uint64_t m = uint64_t(m_hi) << 32 | m_lo;
    if (m == 0) {
      // The common step. Constant advances keep pos off the compare's latency: the CPU runs steps ahead.
      acc += static_cast<uint32_t>(_mm256_extract_epi32(s[7], 7));
      pos += 64;
      i += 64;
      continue;
    }
    const unsigned k = static_cast<unsigned>(_tzcnt_u64(m));
    for (int j = 0; j < 8; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(pre + 8 + 8 * j), s[j]);
    acc += static_cast<uint32_t>(pre[7 + k]);
    pos += k;
    i += k;
    detail::escape_run<T, Out>(p, n, o, nout, pos, i, acc, r);
  }
  return detail::decode_from<T, Out>(in, out, pos, i, acc);
}

template <typename Out>
DecodeResult any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return run<T, Out>(in, out); });
}

}  // namespace

DecodeResult avx2_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) { return any(in, out, t); }
DecodeResult avx2_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) { return any(in, out, t); }

}  // namespace xrd::bo::kernels

#pragma GCC pop_options

namespace xrd::bo::kernels {
bool avx2_supported() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}
}  // namespace xrd::bo::kernels
