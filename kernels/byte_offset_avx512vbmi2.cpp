// AVX-512 byte-offset kernel for CPUs with AVX-512 VNNI, VBMI and VBMI2 (Ice Lake, Zen 4 and later): the
// avx512vnni kernel's escape-free step, and an escape step that works on elements instead of byte lanes: the
// bytes where the step's elements end, and the byte before each, are packed to the front of two registers
// (vpcompressb, register form), so each element's delta is one int32 lane built from its two bytes (vpermt2b)
// and the prefix sums are stored contiguously at fixed offsets (no per-register lane masks or output counts).
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX-512 (headers above keep the default target, so their inline functions
// never carry AVX-512 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")
// GCC 12's AVX-512 intrinsics initialise their "undefined" source operand from itself, which trips these warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/byte_offset_avx512_ops.hpp"
#include "kernels/byte_offset_avx512_dot.hpp"
#include "kernels/byte_offset_avx512_run.hpp"

namespace xrd::byte_offset::kernels {
namespace {

// vpermt2b controls: lane l of register j takes element 16j + l's low byte (first source) into byte 2 and its
// high byte (second source) into byte 3; bytes 0-1 are shifted out.
struct Spread {
  alignas(64) uint8_t idx[4][64];
};
constexpr Spread make_spread() {
  Spread s{};
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 16; ++l) {
      s.idx[j][4 * l + 0] = static_cast<uint8_t>(16 * j + l);
      s.idx[j][4 * l + 1] = static_cast<uint8_t>(16 * j + l);
      s.idx[j][4 * l + 2] = static_cast<uint8_t>(16 * j + l);
      s.idx[j][4 * l + 3] = static_cast<uint8_t>(64 + 16 * j + l);
    }
  return s;
}
alignas(64) constexpr Spread kSpread = make_spread();

// The escape step by elements (run()'s Escape policy). `ends`: the bytes where a token ends (a single byte, or a
// 16-bit escape's high byte; markers and low bytes are not ends). hi = the bytes at the ends and lo = the byte
// before each (loaded from b - 1, so an escape cut by the previous step's end finds its low byte there), packed to
// the front of two registers in element order; a single byte first gets lo = itself and hi = its sign. Each lane
// is then (lo << 16 | hi << 24) >> 16 (arithmetic): the element's delta. Lanes past the element count are 0, so
// lane 63's prefix is the step's total. An escape cut by the step's end adds nothing here (the next step reads its
// low byte again), hence kCutLowInAcc = false; and since a step reads the byte before it, run() takes the stream's
// first token in scalar code (kReadsByteBefore). Writes up to o[63]; returns the elements written.
// Measured against the byte-lane step (docs/byte-offset-kernels.md, fourth pass): the two vpcompressb and four
// vpermt2b replace four masked widenings, eight masked lane operations, four vpcompressd and the per-register mask
// moves, popcounts and data-dependent store addresses.
struct ElementEscapes {
  static constexpr bool kCutLowInAcc = false;
  static constexpr bool kReadsByteBefore = true;
  template <ElementType T, typename Out>
  [[gnu::always_inline]] static size_t step(const uint8_t* b, uint64_t esc, uint64_t carry, unsigned len, Out* o,
                                            __m512i& acc) {
    const uint64_t low = esc << 1 | carry >> 1;
    const uint64_t high = esc << 2 | carry;
    const uint64_t ends = ~(esc | low) & _bzhi_u64(~uint64_t(0), len);
    // At a single byte, lo = the byte and hi = its sign: done before packing, while the plan's mask is on its way.
    const __m512i at = _mm512_loadu_si512(b), before = _mm512_loadu_si512(b - 1);
    const __mmask64 single = ~high;
    const __m512i lo2 = _mm512_maskz_compress_epi8(ends, _mm512_mask_mov_epi8(before, single, at));
    const __m512i hi2 = _mm512_maskz_compress_epi8(
        ends, _mm512_mask_mov_epi8(at, single, _mm512_movm_epi8(_mm512_movepi8_mask(at))));
    const auto* idx = reinterpret_cast<const __m512i*>(kSpread.idx);
    const __m512i last = _mm512_set1_epi32(15);
    __m512i s[4], total[4];
    for (int j = 0; j < 4; ++j) {
      const __m512i d = _mm512_srai_epi32(_mm512_permutex2var_epi8(lo2, _mm512_load_si512(idx + j), hi2), 16);
      s[j] = prefix16(d);
      total[j] = _mm512_permutexvar_epi32(last, s[j]);
    }
    // acc is loop-carried: one add on its path, the totals' sums made aside.
    const __m512i before1 = _mm512_add_epi32(acc, total[0]);
    const __m512i before2 = _mm512_add_epi32(before1, total[1]);
    const __m512i before3 = _mm512_add_epi32(before2, total[2]);
    store<T>(o, _mm512_add_epi32(s[0], acc));
    store<T>(o + 16, _mm512_add_epi32(s[1], before1));
    store<T>(o + 32, _mm512_add_epi32(s[2], before2));
    store<T>(o + 48, _mm512_add_epi32(s[3], before3));
    acc = _mm512_add_epi32(before3, total[3]);
    return static_cast<size_t>(_mm_popcnt_u64(ends));
  }
};

template <typename Out>
DecodeResult any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return run<T, Out, DotPrefix, ElementEscapes>(in, out); });
}

}  // namespace

DecodeResult avx512vbmi2_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return any(in, out, t);
}
DecodeResult avx512vbmi2_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return any(in, out, t);
}

}  // namespace xrd::byte_offset::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace xrd::byte_offset::kernels {
bool avx512vbmi2_supported() {
  __builtin_cpu_init();  // callers may run before the constructors (static registration of benchmarks)
  return avx512vnni_supported() && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2");
}
}  // namespace xrd::byte_offset::kernels
