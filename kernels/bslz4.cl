// Bitshuffle-LZ4 on the device: one work-group per block. Work-item 0 decodes the block's LZ4 sequences into local
// memory, checking every length and offset (the host has already checked the chunk's header and block sizes); then
// every work-item rebuilds elements from the bit rows and writes them as int32 into the image, where the integration
// kernels read them. Unsigned 8/16-bit pixels at 2^N - 1 become -1 (the overflow flag, masked like Pilatus'
// negatives). A block that cannot be decoded records its error (code, chunk byte) in status, the first one wins;
// the host then gives the CPU reference's error for the same chunk.
//
// Built with -DMAX_BLOCK=<bytes of local memory per block>.
// table: per block 4 words: first byte of the LZ4 data in `in`, compressed bytes (RAW_BLOCK: elements stored
// raw, the chunk's last elements % 8), first element, elements.

#define RAW_BLOCK 0xFFFFFFFFu
#define E_LITERAL_PAST_END 1u
#define E_LITERAL_OVERRUN 2u
#define E_TRUNCATED 3u
#define E_OFFSET 4u
#define E_MATCH_OVERRUN 5u
#define E_SHORT 6u

// Element types, as bo::ElementType numbers them.
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

inline void fail(volatile __global uint* status, uint code, uint at) {
  if (atomic_cmpxchg(&status[0], 0u, code) == 0u) status[1] = at;
}

// Reads an LZ4 length extension; returns 0xFFFFFFFF when the block ends first.
inline uint more_length(__global const uchar* in, uint* pos, uint end, uint v) {
  if (v != 15u) return v;
  for (;;) {
    if (*pos >= end) return 0xFFFFFFFFu;
    const uint b = in[(*pos)++];
    v += b;
    if (b != 255u) return v;
  }
}

__kernel void bslz4_decode(__global const uchar* in, __global const uint* table, uint elem_size, uint type,
                           __global int* out, volatile __global uint* status) {
  __local uchar buf[MAX_BLOCK];
  __local uint ok;
  const uint b = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
  const uint start = table[4 * b], size = table[4 * b + 1], first = table[4 * b + 2], n = table[4 * b + 3];
  const bool raw = size == RAW_BLOCK;
  const uint expected = n * elem_size;
  if (lid == 0 && raw) ok = 0;
  if (lid == 0 && !raw) {
    uint pos = start, o = 0, err = 0, err_at = 0;
    const uint end = start + size;
    for (;;) {
      if (pos >= end) { err = E_SHORT; err_at = pos; break; }
      const uint token_at = pos;
      const uint token = in[pos++];
      const uint lit = more_length(in, &pos, end, token >> 4);
      if (lit == 0xFFFFFFFFu) { err = E_TRUNCATED; err_at = pos; break; }
      if (lit > end - pos) { err = E_LITERAL_PAST_END; err_at = token_at; break; }
      if (lit > expected - o) { err = E_LITERAL_OVERRUN; err_at = token_at; break; }
      for (uint i = 0; i < lit; ++i) buf[o + i] = in[pos + i];
      pos += lit;
      o += lit;
      if (pos == end) break;
      if (end - pos < 2) { err = E_TRUNCATED; err_at = pos; break; }
      const uint off = in[pos] | ((uint)in[pos + 1] << 8);
      if (off == 0 || off > o) { err = E_OFFSET; err_at = pos; break; }
      pos += 2;
      uint m = more_length(in, &pos, end, token & 15u);
      if (m == 0xFFFFFFFFu) { err = E_TRUNCATED; err_at = pos; break; }
      m += 4;
      if (m > expected - o) { err = E_MATCH_OVERRUN; err_at = token_at; break; }
      for (uint i = 0; i < m; ++i) buf[o + i] = buf[o + i - off];  // overlapping copies repeat, as LZ4 means
      o += m;
    }
    if (!err && o != expected) { err = E_SHORT; err_at = end; }
    if (err) fail(status, err, err_at);
    ok = err == 0;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  // No work-item leaves before the barrier (every one of the group reaches it).
  if (raw) {
    for (uint i = lid; i < n; i += wg) {
      uint v = 0;
      for (uint j = 0; j < elem_size; ++j) v |= (uint)in[start + i * elem_size + j] << (8 * j);
      out[first + i] = to_value(v, type);
    }
    return;
  }
  if (!ok) return;
  const uint m = n / 8;
  for (uint i = lid; i < n; i += wg) {
    uint v = 0;
    const uint col = i >> 3, bit = i & 7u;
    for (uint j = 0; j < elem_size; ++j) {
      uint byte = 0;
      for (uint k = 0; k < 8; ++k) byte |= ((uint)(buf[(8 * j + k) * m + col] >> bit) & 1u) << k;
      v |= byte << (8 * j);
    }
    out[first + i] = to_value(v, type);
  }
}
