// Internals shared by the byte-offset kernels (scalar reference, SIMD paths): little-endian loads, the escape
// reader and the element-type conversions, so every kernel wraps and extends values the same way.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "kernels/byte_offset.hpp"

namespace xrd::byte_offset::detail {

inline int16_t load_i16(const uint8_t* p) {
  return static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}
inline int32_t load_i32(const uint8_t* p) {
  uint32_t v = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
  return static_cast<int32_t>(v);
}
inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

// Reads the escape at in[pos] (in[pos] == 0x80). On success adds the delta's low 32 bits to acc and returns the
// escape's length (3, 7 or 15); when the stream ends inside it, fills r (truncated) and returns 0.
inline size_t read_escape(const uint8_t* p, size_t n, size_t pos, uint32_t& acc, DecodeResult& r) {
  const size_t left = n - pos;
  auto cut = [&](int bits_, size_t need) {
    r.status = DecodeStatus::truncated;
    r.error_offset = pos;
    r.bytes_used = pos;
    r.escape_bits = bits_;
    r.escape_bytes = need;
    return size_t(0);
  };
  if (left < 3) return cut(16, 3);
  const int16_t d16 = load_i16(p + pos + 1);
  if (d16 != INT16_MIN) {
    acc += static_cast<uint32_t>(static_cast<int32_t>(d16));
    return 3;
  }
  if (left < 7) return cut(32, 7);
  const int32_t d32 = load_i32(p + pos + 3);
  if (d32 != INT32_MIN) {
    acc += static_cast<uint32_t>(d32);
    return 7;
  }
  if (left < 15) return cut(64, 15);
  // Only the low 32 bits matter: the running value wraps modulo 2^32 anyway.
  acc += static_cast<uint32_t>(load_u64(p + pos + 7));
  return 15;
}

// The running 32-bit value as an element of type T (wrapped to its width, then sign- or zero-extended), stored
// as Out. int32 output of u32 values above INT32_MAX keeps the bits (two's complement); float output is exact
// up to 2^24 and rounds to nearest beyond.
// The first token of a stream of at least 80 bytes into acc (read_escape cannot be cut short there): the position
// after it. The kernels whose escape step reads the byte before its step take the first token in scalar code.
inline size_t first_token(const uint8_t* p, size_t n, uint32_t& acc, DecodeResult& r) {
  if (p[0] != 0x80) {
    acc = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(p[0])));
    return 1;
  }
  return read_escape(p, n, 0, acc, r);
}

template <ElementType T>
inline int64_t element_value(uint32_t acc) {
  if constexpr (T == ElementType::i8) return static_cast<int8_t>(static_cast<uint8_t>(acc));
  else if constexpr (T == ElementType::u8) return static_cast<uint8_t>(acc);
  else if constexpr (T == ElementType::i16) return static_cast<int16_t>(static_cast<uint16_t>(acc));
  else if constexpr (T == ElementType::u16) return static_cast<uint16_t>(acc);
  else if constexpr (T == ElementType::i32) return static_cast<int32_t>(acc);
  else return acc;
}
template <ElementType T, typename Out>
inline Out convert(uint32_t acc) {
  if constexpr (std::is_same_v<Out, float>) return static_cast<float>(element_value<T>(acc));
  else return static_cast<int32_t>(static_cast<uint32_t>(element_value<T>(acc)));
}

// Fills r for the two end-of-stream outcomes once `produced` elements are out and pos bytes consumed.
inline void finish(DecodeResult& r, size_t produced, size_t wanted, size_t pos, size_t n) {
  r.elements = produced;
  r.bytes_used = pos;
  if (produced < wanted) {
    r.status = DecodeStatus::too_few_elements;
    r.error_offset = pos;
  } else if (pos < n) {
    r.status = DecodeStatus::trailing_bytes;
    r.error_offset = pos;
  }
}

// Where a SIMD step over the 64 bytes at b (b[0..79] readable) takes its escapes. Steps follow each other 64
// bytes apart whatever the escapes (so the next step's loads never wait for this one's decisions), and a 16-bit
// escape may start at byte 62 or 63 and end in the next step: `carry` (the previous step's plan.carry()) says
// whether one did (1: its marker was at byte 62, 2: at 63). `m` has a bit per 0x80 byte at b.
// The step decodes the 16-bit escapes whose markers are in `esc` and the single bytes between them, `len` bytes;
// when `wide`, a 32- or 64-bit escape starts at byte len, the kernel decodes it in scalar code (wide_escape) and
// the steps start again after it.
struct EscapePlan {
  uint64_t esc = 0;
  unsigned len = 64;
  bool wide = false;
  uint64_t carry() const { return wide ? 0 : esc >> 62; }
};
inline EscapePlan escape_plan(const uint8_t* b, uint64_t m, uint64_t carry) {
  m &= ~(carry | carry >> 1);  // the end of the escape begun in the previous step
  EscapePlan plan;
  if ((m & (m << 1 | m << 2)) == 0) {
    // No 0x80 within two bytes after another: each one is the marker of a 16-bit escape (a 32-bit escape's
    // 0x80 0x00 0x80, or a delta such as 128, would put one there), except that one at byte 62 or 63 has its
    // payload in the next step: checked here. The common case, with no loop.
    plan.esc = m;
    const uint64_t tail = m >> 62;  // 1: a marker at 62, 2: at 63 (not both: they would be 0x80 0x80)
    if ((tail != 0) & (load_i16(b + 62 + tail) == INT16_MIN)) {
      plan.len = static_cast<unsigned>(61 + tail);
      plan.esc = m & ~(uint64_t(1) << plan.len);
      plan.wide = true;
    }
    return plan;
  }
  // Some 0x80 bytes are inside escapes: find the markers token by token.
  while (m) {
    const unsigned k = static_cast<unsigned>(std::countr_zero(m));
    if (load_i16(b + k + 1) == INT16_MIN) {
      plan.len = k;
      plan.wide = true;
      break;
    }
    plan.esc |= uint64_t(1) << k;
    m &= ~(uint64_t(7) << k);
  }
  return plan;
}

// When the SIMD steps stop (near the end of the stream or of the output) just after a step whose last escape
// runs into the next one (carry != 0): moves pos back to that escape's marker and, for the kernels whose step
// adds such an escape's low byte when it lies in the step (marker at byte 62: `cut_low_in_acc`), takes it out of
// acc, so the scalar loop can take the escape whole.
inline void back_to_marker(const uint8_t* p, uint64_t carry, size_t& pos, uint32_t& acc, bool cut_low_in_acc = true) {
  if (carry == 0) return;
  pos -= 64 - (61 + carry);
  if (carry == 1 && cut_low_in_acc) acc -= p[pos + 1];
}

// The SIMD kernels' scalar step for the 32- or 64-bit escape at p[pos] (pos + 15 <= n: it cannot be cut short).
template <ElementType T, typename Out>
inline void wide_escape(const uint8_t* p, size_t n, Out* o, size_t& pos, size_t& i, uint32_t& acc,
                        DecodeResult& r) {
  pos += read_escape(p, n, pos, acc, r);
  o[i++] = convert<T, Out>(acc);
}

// The scalar decoding loop from element i at stream byte pos with running value acc: the whole reference
// decoder when started at (0, 0, 0), and the tail after a fast kernel's blocks.
template <ElementType T, typename Out>
inline DecodeResult decode_from(std::span<const uint8_t> in, std::span<Out> out, size_t pos, size_t i,
                                uint32_t acc) {
  DecodeResult r;
  r.stream_size = in.size();
  r.elements_expected = out.size();
  const uint8_t* p = in.data();
  const size_t n = in.size();
  while (i < out.size() && pos < n) {
    if (p[pos] != 0x80) {
      acc += static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(p[pos])));
      ++pos;
    } else {
      const size_t len = read_escape(p, n, pos, acc, r);
      if (len == 0) {
        r.elements = i;
        return r;
      }
      pos += len;
    }
    out[i++] = convert<T, Out>(acc);
  }
  finish(r, i, out.size(), pos, n);
  return r;
}

// Calls f.template operator()<T>() with the ElementType as a compile-time constant.
template <typename F>
inline auto dispatch_type(ElementType t, F&& f) {
  switch (t) {
    case ElementType::i8: return f.template operator()<ElementType::i8>();
    case ElementType::u8: return f.template operator()<ElementType::u8>();
    case ElementType::i16: return f.template operator()<ElementType::i16>();
    case ElementType::u16: return f.template operator()<ElementType::u16>();
    case ElementType::u32: return f.template operator()<ElementType::u32>();
    case ElementType::i32: break;
  }
  return f.template operator()<ElementType::i32>();
}

}  // namespace xrd::byte_offset::detail
