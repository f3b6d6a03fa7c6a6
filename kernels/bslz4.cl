// Bitshuffle-LZ4 on the device: one work-group per block, any number of frames per launch (a batch's blocks in one
// table). The group decodes the block's LZ4 sequences together into local memory:
// every work-item walks the same sequence headers (the same values, so the same control flow and the same barriers),
// the literals and the match of each sequence are copied by all work-items at once (an overlapping match, offset <
// length, repeats its last `offset` bytes, so byte i of it is the byte i % offset of them). Every length and offset is
// checked before it is used (the host has already checked the chunk's header and block sizes). Then each work-item
// rebuilds 8 elements of a column from the bit rows (an 8x8 bit transpose per element byte) and writes them as int32
// into the image, where the integration kernels read them. Unsigned 8/16-bit pixels at 2^N - 1 become -1 (the
// overflow flag, masked like Pilatus' negatives). A block that cannot be decoded records its error (code, byte of
// `in`) in its frame's two status words, the first one wins; the host then gives the CPU reference's error for that
// frame's chunk.
//
// Built with -DMAX_BLOCK=<decompressed bytes per block> -DMAX_IN=<compressed bytes per block>, and -DLOCAL_SRC to
// copy each block's compressed bytes into local memory first (else they are read from global memory through the
// read-only cache: half the local memory per group, twice the groups per compute unit).
// table: per block 4 words: first byte of the LZ4 data in `in`, compressed bytes (RAW_BLOCK: elements stored raw,
// the chunk's last elements % 8), first element in `out`, and elements | type << 14 | frame << 17.

#define RAW_BLOCK 0xFFFFFFFFu
#define E_LITERAL_PAST_END 1u
#define E_LITERAL_OVERRUN 2u
#define E_TRUNCATED 3u
#define E_OFFSET 4u
#define E_MATCH_OVERRUN 5u
#define E_SHORT 6u

// Element types, as byte_offset::ElementType numbers them.
#define T_I8 0u
#define T_U8 1u
#define T_I16 2u
#define T_U16 3u
#define T_I32 4u
#define T_U32 5u

inline int to_value(uint v, uint type) {
  switch (type) {
    case T_I8: return (int)(char)v;
    case T_U8: return v == 255u ? -1 : (int)v;
    case T_I16: return (int)(short)v;
    case T_U16: return v == 65535u ? -1 : (int)v;
    default: return (int)v;
  }
}

inline uint size_of(uint type) { return type <= T_U8 ? 1u : type <= T_U16 ? 2u : 4u; }

#ifdef LOCAL_SRC
#define SRC_SPACE __local
#else
#define SRC_SPACE __global
#endif

// Reads an LZ4 length extension; returns 0xFFFFFFFF when the block ends first.
inline uint more_length(SRC_SPACE const uchar* in, uint* pos, uint end, uint v) {
  if (v != 15u) return v;
  for (;;) {
    if (*pos >= end) return 0xFFFFFFFFu;
    const uint b = in[(*pos)++];
    v += b;
    if (b != 255u) return v;
  }
}

// (byte r, bit c) -> (byte c, bit r) of a 64-bit word.
inline ulong transpose8(ulong x) {
  ulong t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAUL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCUL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0UL;
  return x ^ t ^ (t << 28);
}

__kernel void bslz4_decode(__global const uchar* restrict in, __global const uint* restrict table,
                           __global int* restrict out, volatile __global uint* status) {
  __local uchar buf[MAX_BLOCK];
  const uint b = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
  const uint start = table[4 * b], size = table[4 * b + 1], first = table[4 * b + 2], w3 = table[4 * b + 3];
  const uint n = w3 & 0x3FFFu, type = (w3 >> 14) & 7u, frame = w3 >> 17;
  const uint es = size_of(type);
  if (size == RAW_BLOCK) {  // the chunk's last elements % 8, stored as they are (no barrier in this group)
    for (uint i = lid; i < n; i += wg) {
      uint v = 0;
      for (uint j = 0; j < es; ++j) v |= (uint)in[start + i * es + j] << (8 * j);
      out[first + i] = to_value(v, type);
    }
    return;
  }
#ifdef LOCAL_SRC
  __local uchar src[MAX_IN];
  for (uint i = lid; i < size; i += wg) src[i] = in[start + i];
  barrier(CLK_LOCAL_MEM_FENCE);
#else
  __global const uchar* restrict src = in + start;
#endif
  const uint expected = n * es;
  uint pos = 0, o = 0, err = 0, err_at = 0;
  for (;;) {
    if (pos >= size) { err = E_SHORT; err_at = pos; break; }
    const uint token_at = pos;
    const uint token = src[pos++];
    const uint lit = more_length(src, &pos, size, token >> 4);
    if (lit == 0xFFFFFFFFu) { err = E_TRUNCATED; err_at = pos; break; }
    if (lit > size - pos) { err = E_LITERAL_PAST_END; err_at = token_at; break; }
    if (lit > expected - o) { err = E_LITERAL_OVERRUN; err_at = token_at; break; }
    for (uint i = lid; i < lit; i += wg) buf[o + i] = src[pos + i];
    pos += lit;
    o += lit;
    if (pos == size) break;
    if (size - pos < 2) { err = E_TRUNCATED; err_at = pos; break; }
    const uint off = src[pos] | ((uint)src[pos + 1] << 8);
    if (off == 0 || off > o) { err = E_OFFSET; err_at = pos; break; }
    pos += 2;
    uint m = more_length(src, &pos, size, token & 15u);
    if (m == 0xFFFFFFFFu) { err = E_TRUNCATED; err_at = pos; break; }
    m += 4;
    if (m > expected - o) { err = E_MATCH_OVERRUN; err_at = token_at; break; }
    barrier(CLK_LOCAL_MEM_FENCE);  // what the match repeats is written (by any work-item)
    const uint from = o - off;
    if (off >= m) {
      for (uint i = lid; i < m; i += wg) buf[o + i] = buf[from + i];
    } else {
      for (uint i = lid; i < m; i += wg) buf[o + i] = buf[from + i % off];
    }
    o += m;
  }
  if (!err && o != expected) { err = E_SHORT; err_at = size; }
  // Every work-item has the same err (the same walk): all or none go on.
  if (err) {
    if (lid == 0 && atomic_cmpxchg(&status[2 * frame], 0u, err) == 0u) status[2 * frame + 1] = start + err_at;
    return;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  // Column c: bit k of byte j of elements 8c .. 8c+7 is in row 8j + k (rows of m = n / 8 bytes).
  const uint m = n / 8;
  for (uint c = lid; c < m; c += wg) {
    uint v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint j = 0; j < es; ++j) {
      ulong x = 0;
      for (uint k = 0; k < 8; ++k) x |= (ulong)buf[(8 * j + k) * m + c] << (8 * k);
      x = transpose8(x);  // byte e: byte j of element 8c + e
      for (uint e = 0; e < 8; ++e) v[e] |= (uint)((x >> (8 * e)) & 0xFFu) << (8 * j);
    }
    for (uint e = 0; e < 8; ++e) out[first + 8 * c + e] = to_value(v[e], type);
  }
}
