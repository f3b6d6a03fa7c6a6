// AVX-512 (F+BW) byte-offset kernel: 64 stream bytes per step. Nearly all deltas are single bytes, so each step
// prefix-sums the bytes before the first 0x80 marker in registers and handles that one escape in scalar code.
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX-512 (headers above keep the default target, so their inline functions
// never carry AVX-512 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,bmi,bmi2,popcnt")
// GCC 12's AVX-512 intrinsics initialise their "undefined" source operand from itself, which trips this warning.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/byte_offset_avx512_ops.hpp"

namespace xrd::bo::kernels {
namespace {

template <ElementType T, typename Out>
DecodeResult run(std::span<const uint8_t> in, std::span<Out> out) {
  const uint8_t* p = in.data();
  const size_t n = in.size(), nout = out.size();
  Out* o = out.data();
  size_t pos = 0, i = 0;
  uint32_t acc = 0;
  DecodeResult r;
  // pre[15] = 0 and pre[16 + j] = sum of the step's first j + 1 deltas, so pre[15 + k] is the sum before byte k
  // (k < 64: the marker's position).
  alignas(64) int32_t pre[79];
  pre[15] = 0;
  const __m512i marker = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i last = _mm512_set1_epi32(15);
  // Room for a whole step and the longest escape after it, and for 64 outputs: no bounds checks inside.
  while (pos + 80 <= n && i + 64 <= nout) {
    const uint8_t* b = p + pos;
    const uint64_t m = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(b), marker);
    __m512i s0 = prefix16(widen16(b));
    __m512i s1 = prefix16(widen16(b + 16));
    __m512i s2 = prefix16(widen16(b + 32));
    __m512i s3 = prefix16(widen16(b + 48));
    s1 = _mm512_add_epi32(s1, _mm512_permutexvar_epi32(last, s0));
    s2 = _mm512_add_epi32(s2, _mm512_permutexvar_epi32(last, s1));
    s3 = _mm512_add_epi32(s3, _mm512_permutexvar_epi32(last, s2));
    // Values past a marker are garbage; later steps overwrite them (i + 64 <= nout keeps them inside).
    const __m512i base = _mm512_set1_epi32(static_cast<int>(acc));
    store<T>(o + i, _mm512_add_epi32(s0, base));
    store<T>(o + i + 16, _mm512_add_epi32(s1, base));
    store<T>(o + i + 32, _mm512_add_epi32(s2, base));
    store<T>(o + i + 48, _mm512_add_epi32(s3, base));
    if (m == 0) {
      // The common step. Constant advances keep pos off the compare's latency: the CPU runs steps ahead.
      acc += static_cast<uint32_t>(_mm_cvtsi128_si32(_mm512_castsi512_si128(_mm512_permutexvar_epi32(last, s3))));
      pos += 64;
      i += 64;
      continue;
    }
    const unsigned k = static_cast<unsigned>(_tzcnt_u64(m));
    _mm512_store_si512(pre + 16, s0);
    _mm512_store_si512(pre + 32, s1);
    _mm512_store_si512(pre + 48, s2);
    _mm512_mask_storeu_epi32(pre + 64, 0x7fff, s3);  // pre[79] would be the whole step: not needed here
    acc += static_cast<uint32_t>(pre[15 + k]);
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

DecodeResult avx512_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) { return any(in, out, t); }
DecodeResult avx512_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) { return any(in, out, t); }

}  // namespace xrd::bo::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace xrd::bo::kernels {
bool avx512_supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2");
}
}  // namespace xrd::bo::kernels
