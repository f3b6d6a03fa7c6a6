// AVX2 byte-offset kernel: the AVX-512 kernel's plan (64 stream bytes per step, register prefix sums, 16-bit
// escapes decoded in registers) with 8-lane registers, for x86-64 CPUs without AVX-512. What AVX-512 does with
// mask registers takes small tables here, indexed by 8 bits of a lane mask: shuffle, shift and packing controls.
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX2 (headers above keep the default target, so their inline functions never
// carry AVX2 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,popcnt")

namespace xrd::byte_offset::kernels {
namespace {

// Inclusive prefix sum of 8 int32 lanes: two in-lane shifted adds, then the low half's total into the high half.
inline __m256i prefix8(__m256i x) {
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
  const __m256i low_total = _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xFF);
  return _mm256_add_epi32(x, low_total);
}

// weights[q] holds, in lane j's 4 bytes, 1 where byte 4q + k of an 8-byte group is at or before byte j, else 0.
struct Triangle {
  alignas(32) uint8_t weights[2][32];
};
constexpr Triangle make_triangle() {
  Triangle t{};
  for (int q = 0; q < 2; ++q)
    for (int j = 0; j < 8; ++j)
      for (int k = 0; k < 4; ++k) t.weights[q][4 * j + k] = 4 * q + k <= j ? 1 : 0;
  return t;
}
alignas(32) constexpr Triangle kTriangle = make_triangle();

inline int32_t load_group(const uint8_t* b) {
  int32_t v;
  __builtin_memcpy(&v, b, 4);
  return v;
}

// Inclusive prefix sum of the 8 signed bytes at b as 8 int32 lanes, by dot products with 0/1 weights (each 4-byte
// group broadcast from memory): multiply-add units instead of the shuffles that widening and shifting take.
inline __m256i prefix_dot8(const uint8_t* b) {
  const auto* w = reinterpret_cast<const __m256i*>(kTriangle.weights);
  const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_load_si256(w), _mm256_set1_epi32(load_group(b))),
                                         _mm256_maddubs_epi16(_mm256_load_si256(w + 1), _mm256_set1_epi32(load_group(b + 4))));
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
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

inline __m256i load_row(const int32_t (&row)[8]) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(row)); }

// Per-lane arithmetic shift counts for the escape step: shifts[x] is 16 in the int32 lanes whose bit of the 8-bit
// mask x is set (an escape's high byte), else 24 (a single byte). int32 rows, loaded as registers (8 KB).
struct ShiftTable {
  int32_t shifts[256][8];
};
constexpr ShiftTable make_shift_table() {
  ShiftTable t{};
  for (unsigned x = 0; x < 256; ++x)
    for (unsigned b = 0; b < 8; ++b) t.shifts[x][b] = (x >> b & 1) ? 16 : 24;
  return t;
}
alignas(64) constexpr ShiftTable kShiftTable = make_shift_table();

// For 8 lanes and an 8-bit mask x of the lanes where a token ends, one 64-byte row (one cache line):
// - pairs: the in-lane byte shuffle control that puts b[k - 1] and b[k] in the two high bytes of lane k where x has
//   bit k (k = 0..7, from the 16 bytes at b - 1, the same 16 bytes in both 128-bit halves) and clears every other
//   byte, so one shuffle builds the lanes and masks them;
// - pack: the set bits of x first (the vpermd control that packs those lanes to the front).
// Both are ready to load as registers: no widening shuffle per use (16 KB).
struct alignas(64) EndRow {
  int8_t pairs[32];
  int32_t pack[8];
};
struct EndTable {
  EndRow rows[256];
};
constexpr EndTable make_end_table() {
  EndTable t{};
  for (unsigned x = 0; x < 256; ++x) {
    unsigned n = 0;
    for (unsigned k = 0; k < 8; ++k) {
      const bool end = x >> k & 1;
      t.rows[x].pairs[4 * k] = -1;
      t.rows[x].pairs[4 * k + 1] = -1;
      t.rows[x].pairs[4 * k + 2] = end ? static_cast<int8_t>(k) : int8_t(-1);
      t.rows[x].pairs[4 * k + 3] = end ? static_cast<int8_t>(k + 1) : int8_t(-1);
      if (end) t.rows[x].pack[n++] = static_cast<int32_t>(k);
    }
  }
  return t;
}
alignas(64) constexpr EndTable kEnds = make_end_table();

// A step that holds markers, once detail::escape_plan has placed its 16-bit escapes. Element by element where
// tokens end: lane k (one int32 lane per stream byte) holds b[k - 1] and b[k] in its two high bytes (one in-lane
// shuffle of a 128-bit broadcast from memory: no widening), and an arithmetic shift by 16 where k is an escape's high
// byte gives the escape's delta, by 24 elsewhere a single byte's; lanes where no token ends (markers, low bytes,
// from `len` on) are cleared by the same shuffle (its control is a table row per 8-lane mask). The prefix sum of the lanes then holds each element's value at the lane where its
// token ends, and those lanes are packed into consecutive outputs (vpermd, table rows). An escape's high byte at
// byte 0 takes its low byte from the byte before the step, so run() starts the steps at byte 1 or later; the low
// byte of an escape cut by the step's end adds nothing here (not in acc: back_to_marker without cut_low_in_acc).
// Writes up to o[63]; returns the elements written and adds the lanes' sum to acc (the running value in every
// lane, kept in a register).
template <ElementType T, typename Out>
inline size_t escape_step(const uint8_t* b, uint64_t esc, uint64_t carry, unsigned len, Out* o, __m256i& acc) {
  const uint64_t low = esc << 1 | carry >> 1;                // lanes of escapes' low bytes
  const uint64_t high = esc << 2 | carry;                    // lanes of escapes' high bytes
  const uint64_t keep = ~esc & _bzhi_u64(~uint64_t(0), len);  // lanes that count
  const uint64_t ends = keep & ~low;                          // lanes where a token ends
  // One register at a time, so few registers are live (no spills): what comes before the next register is the last
  // lane of this one's values (a vpermd and an add per register on the loop-carried chain, ~32 cycles a step, which
  // the out-of-order window overlaps with the next registers' independent work; one add less per register than
  // a separate running sum of the totals, and measured 2-3 % faster).
  __m256i before = acc;
  size_t c = 0;
  for (int j = 0; j < 8; ++j) {
    const __m256i x = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 8 * j - 1)));
    const unsigned e = static_cast<unsigned>(ends >> (8 * j)) & 0xff;
    const EndRow& row = kEnds.rows[e];
    const __m256i pairs = _mm256_load_si256(reinterpret_cast<const __m256i*>(row.pairs));
    const __m256i d = _mm256_srav_epi32(_mm256_shuffle_epi8(x, pairs), load_row(kShiftTable.shifts[(high >> (8 * j)) & 0xff]));
    const __m256i sj = prefix8(d);
    const __m256i outj = _mm256_add_epi32(sj, before);
    store<T>(o + c, _mm256_permutevar8x32_epi32(outj, load_row(row.pack)));
    c += static_cast<size_t>(_mm_popcnt_u32(e));
    before = last_lane(outj);
  }
  acc = before;
  return c;
}

// detail::escape_plan with a shorter walk when some 0x80 bytes lie within two bytes of another (19 % of the steps
// of the escape-dense frame, mostly 32-bit escapes and escapes with a 0x80 payload byte): a 0x80 byte with no other
// within two bytes before or after it is a marker (only a marker two bytes or less before it could make it payload),
// so only the 0x80 bytes in such close groups are walked, token by token, and the rest are taken at once. The same
// plan as detail::escape_plan, bit for bit.
inline detail::EscapePlan escape_plan(const uint8_t* b, uint64_t m, uint64_t carry) {
  m &= ~(carry | carry >> 1);  // the end of the escape begun in the previous step
  const uint64_t close_after = m & (m << 1 | m << 2);  // 0x80 bytes with another one or two bytes before them
  if (close_after == 0) return detail::escape_plan(b, m, 0);  // the common case, no loop
  uint64_t walk = close_after | ((close_after >> 1 | close_after >> 2) & m);
  detail::EscapePlan plan;
  plan.esc = m & ~walk;  // markers for certain
  uint64_t payload = 0;  // the bytes after the walked markers
  while (walk) {
    const unsigned k = static_cast<unsigned>(std::countr_zero(walk));
    walk &= walk - 1;
    if (payload >> k & 1) continue;
    if (detail::load_i16(b + k + 1) == INT16_MIN) {
      plan.len = k;
      plan.wide = true;
      plan.esc = _bzhi_u64(plan.esc, k);
      return plan;
    }
    plan.esc |= uint64_t(1) << k;
    payload |= uint64_t(6) << k;
  }
  // A marker at byte 62 or 63 has its payload in the next step: a 32-bit escape there is found here.
  const uint64_t tail = plan.esc >> 62;
  if ((tail != 0) & (detail::load_i16(b + 62 + tail) == INT16_MIN)) {
    plan.len = static_cast<unsigned>(61 + tail);
    plan.esc &= ~(uint64_t(1) << plan.len);
    plan.wide = true;
  }
  return plan;
}

template <ElementType T, typename Out>
DecodeResult run(std::span<const uint8_t> in, std::span<Out> out) {
  const uint8_t* p = in.data();
  const size_t n = in.size(), nout = out.size();
  Out* o = out.data();
  size_t pos = 0, i = 0;
  uint32_t acc = 0;
  uint64_t carry = 0;  // an escape begun in the previous step ends in this one (detail::EscapePlan)
  DecodeResult r;
  const __m256i marker = _mm256_set1_epi8(static_cast<char>(0x80));
  // Room for a whole step and the longest escape after it, and for 64 outputs: no bounds checks inside.
  // Software-pipelined by one step, as the AVX-512 kernels (byte_offset_avx512_run.hpp): the next step's marker
  // mask is computed before this step's registers.
  auto markers = [&](size_t at) -> uint64_t {
    if (at + 80 > n) return 0;
    const uint8_t* b = p + at;
    const uint32_t lo = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), marker)));
    const uint32_t hi = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32)), marker)));
    return uint64_t(hi) << 32 | lo;
  };
  if (n >= 80 && nout >= 64) {
    // The escape step reads the byte before its step: the first token is taken here, so that byte is in the stream,
    // whenever the loop below could run from pos 0 (its own test then decides whether it runs from here; the scalar
    // loop does the rest otherwise).
    pos = detail::first_token(p, n, acc, r);
    o[i++] = detail::convert<T, Out>(acc);
  }
  uint64_t m = markers(pos);
  // The running value in every lane, kept in a register from step to step; acc where scalar code takes over.
  __m256i vacc = _mm256_set1_epi32(static_cast<int>(acc));
  while (pos + 80 <= n && i + 64 <= nout) {
    const uint8_t* b = p + pos;
    if ((m | carry) == 0) {
      // The common step: 64 single-byte deltas.
      const uint64_t m_next = markers(pos + 64);
      __m256i s[8];
      for (int j = 0; j < 8; ++j) s[j] = prefix_dot8(b + 8 * j);
      for (int j = 1; j < 8; ++j) s[j] = _mm256_add_epi32(s[j], last_lane(s[j - 1]));
      for (int j = 0; j < 8; ++j) store<T>(o + i + 8 * j, _mm256_add_epi32(s[j], vacc));
      vacc = _mm256_add_epi32(vacc, last_lane(s[7]));
      pos += 64;
      i += 64;
      m = m_next;
      continue;
    }
    const detail::EscapePlan plan = escape_plan(b, m, carry);
    m = markers(pos + plan.len);
    i += escape_step<T, Out>(b, plan.esc, carry, plan.len, o + i, vacc);
    pos += plan.len;
    carry = plan.carry();
    if (plan.wide) {
      acc = static_cast<uint32_t>(_mm256_cvtsi256_si32(vacc));
      detail::wide_escape<T, Out>(p, n, o, pos, i, acc, r);
      vacc = _mm256_set1_epi32(static_cast<int>(acc));
      m = markers(pos);
    }
  }
  acc = static_cast<uint32_t>(_mm256_cvtsi256_si32(vacc));
  detail::back_to_marker(p, carry, pos, acc, /*cut_low_in_acc=*/false);
  return detail::decode_from<T, Out>(in, out, pos, i, acc);
}

template <typename Out>
DecodeResult any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return run<T, Out>(in, out); });
}

}  // namespace

DecodeResult avx2_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) { return any(in, out, t); }
DecodeResult avx2_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) { return any(in, out, t); }

}  // namespace xrd::byte_offset::kernels

#pragma GCC pop_options

namespace xrd::byte_offset::kernels {
bool avx2_supported() {
  __builtin_cpu_init();  // callers may run before the constructors (static registration of benchmarks)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
}
}  // namespace xrd::byte_offset::kernels
