// Bitshuffle-LZ4 chunk format: the header check, the block walk, element conversions, the 8x8 bit transpose and the
// diagnosis of an LZ4 block that liblz4 refused (which byte, and why).
#include <lz4.h>

#include <cstring>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"

namespace xrd::bslz4 {

namespace {
uint64_t read_be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
}  // namespace

size_t element_size(byte_offset::ElementType t) { return static_cast<size_t>(byte_offset::bits(t) / 8); }

size_t default_block_elements(size_t elem_size) {
  size_t b = 8192 / elem_size;
  b = b / 8 * 8;
  return b < 128 ? 128 : b;
}

Layout parse_header(std::span<const uint8_t> chunk, size_t elem_size, size_t elements) {
  if (chunk.size() < 12)
    throw StreamError(chunk.size(), "truncated: the chunk has " + std::to_string(chunk.size()) +
                                        " bytes, the 12-byte header (uncompressed size, block size) expected");
  Layout l;
  l.elem_size = elem_size;
  l.elements = elements;
  l.bytes = read_be(chunk.data(), 8);
  l.block_bytes = static_cast<uint32_t>(read_be(chunk.data() + 8, 4));
  if (l.bytes != static_cast<uint64_t>(elements) * elem_size)
    throw StreamError(0, "header: uncompressed size " + std::to_string(l.bytes) + " bytes, expected " +
                             std::to_string(elements) + " elements x " + std::to_string(elem_size) + " bytes = " +
                             std::to_string(static_cast<uint64_t>(elements) * elem_size));
  if (l.block_bytes == 0 || l.block_bytes % elem_size != 0 || (l.block_bytes / elem_size) % 8 != 0)
    throw StreamError(8, "header: block size " + std::to_string(l.block_bytes) +
                             " bytes, expected a positive multiple of 8 elements x " + std::to_string(elem_size) +
                             " bytes");
  l.block_elements = l.block_bytes / elem_size;
  l.full_blocks = elements / l.block_elements;
  const size_t rest = elements % l.block_elements;
  l.last_block_elements = rest - rest % 8;
  l.leftover_elements = elements % 8;
  return l;
}

namespace detail {

std::vector<BlockRef> walk_blocks(std::span<const uint8_t> chunk, const Layout& l) {
  std::vector<BlockRef> refs(l.blocks());
  size_t pos = 12;
  for (size_t b = 0; b < refs.size(); ++b) {
    const size_t expected = l.block_elements_of(b) * l.elem_size;
    if (chunk.size() - pos < 4)
      throw StreamError(pos, "truncated: block " + std::to_string(b) + " of " + std::to_string(refs.size()) +
                                 " has no 4-byte compressed size (the chunk ends at byte " +
                                 std::to_string(chunk.size()) + ")");
    const uint64_t csize = read_be(chunk.data() + pos, 4);
    const uint64_t bound = static_cast<uint64_t>(LZ4_compressBound(static_cast<int>(expected)));
    if (csize == 0 || csize > bound)
      throw StreamError(pos, "block " + std::to_string(b) + ": compressed size " + std::to_string(csize) +
                                 " bytes, expected 1 to " + std::to_string(bound) + " (LZ4 bound of " +
                                 std::to_string(expected) + " bytes)");
    if (csize > chunk.size() - pos - 4)
      throw StreamError(pos, "truncated: block " + std::to_string(b) + " declares " + std::to_string(csize) +
                                 " compressed bytes, only " + std::to_string(chunk.size() - pos - 4) + " remain");
    refs[b] = {pos + 4, static_cast<size_t>(csize), b * l.block_elements, expected};
    pos += 4 + csize;
  }
  const size_t raw = l.leftover_elements * l.elem_size;
  if (chunk.size() - pos < raw)
    throw StreamError(pos, "truncated: the last " + std::to_string(l.leftover_elements) + " elements (" +
                               std::to_string(raw) + " raw bytes) expected after the blocks, " +
                               std::to_string(chunk.size() - pos) + " bytes remain");
  if (chunk.size() - pos != raw)
    throw StreamError(pos + raw, std::to_string(chunk.size() - pos - raw) +
                                     " trailing bytes after the last block and raw elements");
  return refs;
}

void decode_block_lz4(std::span<const uint8_t> chunk, const BlockRef& r, uint8_t* dst) {
  const auto* src = reinterpret_cast<const char*>(chunk.data() + r.offset);
  const int n = LZ4_decompress_safe(src, reinterpret_cast<char*>(dst), static_cast<int>(r.size),
                                    static_cast<int>(r.expected));
  if (n != static_cast<int>(r.expected)) diagnose_lz4(chunk.subspan(r.offset, r.size), r.expected, r.offset, n);
}

uint64_t transpose8(uint64_t x) {
  uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x = x ^ t ^ (t << 28);
  return x;
}

void unshuffle_columns(const uint8_t* in, size_t n, size_t s, size_t c0, size_t c1, uint8_t* out) {
  const size_t m = n / 8;
  for (size_t c = c0; c < c1; ++c)
    for (size_t j = 0; j < s; ++j) {
      uint64_t q = 0;
      for (size_t k = 0; k < 8; ++k) q |= static_cast<uint64_t>(in[(8 * j + k) * m + c]) << (8 * k);
      q = transpose8(q);
      for (size_t e = 0; e < 8; ++e) out[(8 * c + e) * s + j] = static_cast<uint8_t>(q >> (8 * e));
    }
}

void diagnose_lz4(std::span<const uint8_t> src, size_t expected, uint64_t base, int lz4_result) {
  const size_t n = src.size();
  size_t pos = 0, out = 0;
  auto length = [&](size_t v, const char* what) {
    if (v != 15) return v;
    for (;;) {
      if (pos >= n) throw StreamError(base + pos, std::string("LZ4 block truncated inside a ") + what + " length");
      const uint8_t b = src[pos++];
      v += b;
      if (b != 255) return v;
    }
  };
  for (;;) {
    if (pos >= n)
      throw StreamError(base + pos, "LZ4 block ends after " + std::to_string(out) + " output bytes, expected " +
                                        std::to_string(expected));
    const size_t token_at = pos;
    const uint8_t token = src[pos++];
    const size_t lit = length(token >> 4, "literal");
    if (lit > n - pos)
      throw StreamError(base + token_at, "LZ4 literal run of " + std::to_string(lit) +
                                             " bytes runs past the block's end (" + std::to_string(n - pos) +
                                             " bytes left)");
    if (lit > expected - out)
      throw StreamError(base + token_at, "LZ4 literals overrun the output block: " + std::to_string(out + lit) +
                                             " bytes, the block holds " + std::to_string(expected));
    pos += lit;
    out += lit;
    if (pos == n) break;
    if (n - pos < 2) throw StreamError(base + pos, "LZ4 block truncated inside a match offset");
    const size_t off = src[pos] | (static_cast<size_t>(src[pos + 1]) << 8);
    if (off == 0 || off > out)
      throw StreamError(base + pos, "LZ4 match offset " + std::to_string(off) +
                                        " reaches before the start of the block (output position " +
                                        std::to_string(out) + ")");
    pos += 2;
    const size_t mlen = length(token & 15, "match") + 4;
    if (mlen > expected - out)
      throw StreamError(base + token_at, "LZ4 match overruns the output block: " + std::to_string(out + mlen) +
                                             " bytes, the block holds " + std::to_string(expected));
    out += mlen;
  }
  if (out != expected)
    throw StreamError(base + n, "LZ4 block decodes to " + std::to_string(out) + " bytes, expected " +
                                    std::to_string(expected));
  throw StreamError(base + (lz4_result < 0 ? static_cast<uint64_t>(-(lz4_result + 1)) : 0),
                    "LZ4 block refused by liblz4 (result " + std::to_string(lz4_result) +
                        "): it breaks the format's end-of-block rules");
}

}  // namespace detail

template <class Out>
void detail::convert(const uint8_t* bytes, size_t n, byte_offset::ElementType t, Out* out) {
  switch (t) {
    case byte_offset::ElementType::u8:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(bytes[i]);
      break;
    case byte_offset::ElementType::i8:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(static_cast<int8_t>(bytes[i]));
      break;
    case byte_offset::ElementType::u16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, bytes + 2 * i, 2);
        out[i] = static_cast<Out>(v);
      }
      break;
    case byte_offset::ElementType::i16:
      for (size_t i = 0; i < n; ++i) {
        int16_t v;
        std::memcpy(&v, bytes + 2 * i, 2);
        out[i] = static_cast<Out>(v);
      }
      break;
    case byte_offset::ElementType::u32:
    case byte_offset::ElementType::i32:
      for (size_t i = 0; i < n; ++i) {
        int32_t v;  // u32 wraps to int32 (the frame seam's rule), then converts
        std::memcpy(&v, bytes + 4 * i, 4);
        out[i] = static_cast<Out>(v);
      }
      break;
  }
}
template void detail::convert<int32_t>(const uint8_t*, size_t, byte_offset::ElementType, int32_t*);
template void detail::convert<float>(const uint8_t*, size_t, byte_offset::ElementType, float*);

std::vector<uint8_t> to_element_bytes(std::span<const int32_t> values, byte_offset::ElementType t) {
  const size_t s = element_size(t);
  std::vector<uint8_t> b(values.size() * s);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t v = static_cast<uint32_t>(values[i]);
    std::memcpy(b.data() + i * s, &v, s);  // little-endian: the low bytes
  }
  return b;
}

}  // namespace xrd::bslz4
