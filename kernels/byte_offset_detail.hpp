// Internals shared by the byte-offset kernels (scalar reference, SIMD paths): little-endian loads, the escape
// reader and the element-type conversions, so every kernel wraps and extends values the same way.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "kernels/byte_offset.hpp"

namespace xrd::bo::detail {

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

// The SIMD kernels' escape step: starting on a 0x80 marker with room for a whole 64-bit escape and a following
// 64-byte step (pos + 80 <= n, i + 64 <= nout), decode the whole run of escapes in scalar code. Escapes come in
// runs (bright rings, module edges: 80% follow another), so one call takes the run, not one escape.
template <ElementType T, typename Out>
inline void escape_run(const uint8_t* p, size_t n, Out* o, size_t nout, size_t& pos, size_t& i, uint32_t& acc,
                       DecodeResult& r) {
  do {
    const int16_t d16 = load_i16(p + pos + 1);
    if (d16 != INT16_MIN) {
      acc += static_cast<uint32_t>(static_cast<int32_t>(d16));
      pos += 3;
    } else {
      pos += read_escape(p, n, pos, acc, r);  // pos + 15 <= n: cannot be cut short here
    }
    o[i++] = convert<T, Out>(acc);
  } while (pos + 80 <= n && i + 64 <= nout && p[pos] == 0x80);
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

}  // namespace xrd::bo::detail
