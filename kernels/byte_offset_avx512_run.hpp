// The AVX-512 byte-offset kernel's steps, shared by the kernels that differ only in how they prefix-sum 16 bytes
// (byte_offset_avx512.cpp: shuffles; byte_offset_avx512vnni.cpp: dot products). Include it only inside a region
// compiled for AVX-512 (#pragma GCC target), after byte_offset_avx512_ops.hpp: everything here is internal to the
// including file. Include byte_offset_detail.hpp before that region, so its inline functions keep the default target.
//
// 64 stream bytes per step. A step without a 0x80 marker prefix-sums its 64 single-byte deltas in registers; a step
// with markers decodes its 16-bit escapes in registers too (escape_step), so escape-dense frames (strong rings, hot
// pixels) do not fall back to a scalar walk; only the rare 32- and 64-bit escapes do.
#pragma once
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"

namespace xrd::byte_offset::kernels {
namespace {

// A step that holds markers, once detail::escape_plan has placed its 16-bit escapes (`esc`, and `carry`: the end
// of one begun in the previous step). Each byte becomes one int32 lane: a single-byte token's delta; for a 16-bit
// escape, 0 for the marker, the low byte zero-extended and the high byte sign-extended times 256, so that the
// escape's delta is the sum of its lanes. The prefix sum of the lanes then holds each element's value at the lane
// where its token ends, and a compress per register packs those lanes into consecutive outputs. Lanes from `len`
// on count for nothing. Writes up to o[63]; returns the elements written and adds the lanes' sum to acc (the
// running value in every lane: it stays in a vector register from step to step).
// Always inlined: GCC 12 made it a call, with acc passed through memory and a vzeroupper per escape step
// (3-7% of the kernel's time on the escape-dense frame).
template <ElementType T, typename Out>
[[gnu::always_inline]] inline size_t escape_step_lanes(const uint8_t* b, uint64_t esc, uint64_t carry, unsigned len,
                                                      Out* o, __m512i& acc) {
  const uint64_t low = esc << 1 | carry >> 1;                // lanes of escapes' low bytes
  const uint64_t high = esc << 2 | carry;                    // lanes of escapes' high bytes
  const uint64_t keep = ~esc & _bzhi_u64(~uint64_t(0), len);  // lanes that count
  const uint64_t ends = keep & ~low;                          // lanes where a token ends
  const __m512i last = _mm512_set1_epi32(15);
  const __m512i byte = _mm512_set1_epi32(0xff);
  __m512i s[4], total[4];
  for (int j = 0; j < 4; ++j) {
    __m512i d = _mm512_maskz_cvtepi8_epi32(static_cast<__mmask16>(keep >> (16 * j)),
                                           _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16 * j)));
    d = _mm512_mask_and_epi32(d, static_cast<__mmask16>(low >> (16 * j)), d, byte);
    d = _mm512_mask_slli_epi32(d, static_cast<__mmask16>(high >> (16 * j)), d, 8);
    s[j] = prefix16(d);
    total[j] = _mm512_permutexvar_epi32(last, s[j]);
  }
  // What comes before each register, from the registers' totals side by side (a short dependency chain).
  const __m512i base = acc;
  const __m512i before1 = _mm512_add_epi32(base, total[0]);
  const __m512i before2 = _mm512_add_epi32(before1, total[1]);
  const __m512i before[4] = {base, before1, before2, _mm512_add_epi32(before2, total[2])};
  size_t c = 0;
  for (int j = 0; j < 4; ++j) {
    const __mmask16 e = static_cast<__mmask16>(ends >> (16 * j));
    store<T>(o + c, _mm512_maskz_compress_epi32(e, _mm512_add_epi32(s[j], before[j])));
    c += static_cast<size_t>(_mm_popcnt_u32(e));
  }
  const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(total[0], total[1]), _mm512_add_epi32(total[2], total[3]));
  acc = _mm512_add_epi32(acc, sum);
  return c;
}

// The escape step above, as run()'s Escape policy: the low byte of an escape cut by the step's end is in acc.
struct LaneEscapes {
  static constexpr bool kCutLowInAcc = true;
  static constexpr bool kReadsByteBefore = false;
  template <ElementType T, typename Out>
  [[gnu::always_inline]] static size_t step(const uint8_t* b, uint64_t esc, uint64_t carry, unsigned len, Out* o,
                                            __m512i& acc) {
    return escape_step_lanes<T, Out>(b, esc, carry, len, o, acc);
  }
};

// The whole kernel; Prefix::block(b) is the inclusive prefix sum of the 16 signed bytes at b, as 16 int32 lanes
// (the one thing the AVX-512 kernels do differently).
template <ElementType T, typename Out, typename Prefix, typename Escape = LaneEscapes>
DecodeResult run(std::span<const uint8_t> in, std::span<Out> out) {
  const uint8_t* p = in.data();
  const size_t n = in.size(), nout = out.size();
  Out* o = out.data();
  size_t pos = 0, i = 0;
  uint32_t acc = 0;
  uint64_t carry = 0;  // an escape begun in the previous step ends in this one (detail::EscapePlan)
  DecodeResult r;
  const __m512i marker = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i last = _mm512_set1_epi32(15);
  // Room for a whole step and the longest escape after it, and for 64 outputs: no bounds checks inside.
  // Software-pipelined by one step: the next step's marker mask is computed before this step's registers (so its
  // branch and masks are ready when its vector work is dispatched, instead of waiting behind this step's in the
  // out-of-order window). Its escape plan is not: planning ahead too measured slower (docs/byte-offset-kernels.md).
  auto markers = [&](size_t at) -> uint64_t {
    return at + 80 <= n ? _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p + at), marker) : 0;
  };
  if constexpr (Escape::kReadsByteBefore) {
    // The escape step reads the byte before its step: the first token is taken here, so that byte is in the
    // stream, whenever the loop below could run from pos 0 (its own test then decides whether it runs from here;
    // the scalar loop does the rest otherwise).
    if (n >= 80 && nout >= 64) {
      pos = detail::first_token(p, n, acc, r);
      o[i++] = detail::convert<T, Out>(acc);
    }
  }
  uint64_t m = markers(pos);
  // The running value in every lane, kept in a register from step to step (no moves between the vector and the
  // integer registers per step); acc is brought up to date where scalar code takes over.
  __m512i vacc = _mm512_set1_epi32(static_cast<int>(acc));
  while (pos + 80 <= n && i + 64 <= nout) {
    const uint8_t* b = p + pos;
    if ((m | carry) == 0) {
      // The common step: 64 single-byte deltas.
      const uint64_t m_next = markers(pos + 64);
      __m512i s0 = Prefix::block(b);
      __m512i s1 = Prefix::block(b + 16);
      __m512i s2 = Prefix::block(b + 32);
      __m512i s3 = Prefix::block(b + 48);
      s1 = _mm512_add_epi32(s1, _mm512_permutexvar_epi32(last, s0));
      s2 = _mm512_add_epi32(s2, _mm512_permutexvar_epi32(last, s1));
      s3 = _mm512_add_epi32(s3, _mm512_permutexvar_epi32(last, s2));
      const __m512i base = vacc;
      store<T>(o + i, _mm512_add_epi32(s0, base));
      store<T>(o + i + 16, _mm512_add_epi32(s1, base));
      store<T>(o + i + 32, _mm512_add_epi32(s2, base));
      store<T>(o + i + 48, _mm512_add_epi32(s3, base));
      vacc = _mm512_add_epi32(vacc, _mm512_permutexvar_epi32(last, s3));
      pos += 64;
      i += 64;
      m = m_next;
      continue;
    }
    const detail::EscapePlan plan = detail::escape_plan(b, m, carry);
    m = markers(pos + plan.len);
    i += Escape::template step<T, Out>(b, plan.esc, carry, plan.len, o + i, vacc);
    pos += plan.len;
    carry = plan.carry();
    if (plan.wide) {
      acc = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm512_castsi512_si128(vacc)));
      detail::wide_escape<T, Out>(p, n, o, pos, i, acc, r);
      vacc = _mm512_set1_epi32(static_cast<int>(acc));
      m = markers(pos);
    }
  }
  acc = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm512_castsi512_si128(vacc)));
  detail::back_to_marker(p, carry, pos, acc, Escape::kCutLowInAcc);
  return detail::decode_from<T, Out>(in, out, pos, i, acc);
}

}  // namespace
}  // namespace xrd::byte_offset::kernels
