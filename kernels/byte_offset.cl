// Parallel CBF byte-offset decoding for a batch of frames (OpenCL C 1.2). Built with -DWG=<threads per group>.
//
// The paper's five steps (mark exceptions, decode exception runs, prefix sums of values and positions, scatter)
// rearranged so that nothing depends on the data being friendly and nothing goes back to the host midway:
//
//  Each thread owns a 16-byte chunk and must find the value ("token") boundaries in it. A token is 1, 3, 7 or 15
//  bytes long, so the first token of a chunk starts 0..14 bytes into it: the chunk's *entry state*. For each of
//  the 15 possible entry states a thread computes, in one backward pass over its 16 bytes, the entry state of the
//  next chunk; that map (15 nibbles in a ulong) composes associatively, so entry states come from a parallel scan
//  of maps (exception runs of any length, across work-groups and buffers, cost nothing special). Then counts and
//  delta sums per chunk are scanned the same way (two-level: within a work-group, then across the frame's tiles),
//  and each work-group writes its values through local memory, coalesced, never past the frame's element count.
//
//  bo_tile_maps     per tile (WG chunks): the tile's composed map, and each chunk's prefix map within the tile
//  bo_frame_entries per frame: entry state of every tile (scan of tile maps)
//  bo_tile_counts   per tile: entry state of each chunk (kept), token count and delta sum of the tile
//  bo_frame_bases   per frame: first element index and running value of every tile; the frame's token count
//  bo_tile_write    per tile: values, converted to the element type, int32 or float bits; the end-of-stream facts
//
// Frame metadata: META_WORDS uints per frame (see the M_* offsets; the host side is kernels/ocl_decode.cpp).

#define CHUNK 16
#define TILE (WG * CHUNK)
#define HALO 16

#define M_IN_OFFSET 0   // byte offset of the payload in `in`
#define M_BYTES 1       // payload length
#define M_ELEMENTS 2    // elements wanted
#define M_TYPE 3        // ElementType: 0 i8, 1 u8, 2 i16, 3 u16, 4 i32, 5 u32
#define M_TILE_FIRST 4  // index of the frame's first tile in the batch's tile arrays
#define M_TILES 5       // number of tiles of the frame
#define M_OUT_OFFSET 6  // element offset of the frame's image in `out`
#define META_WORDS 8

// Per-frame status words written by the device (host: ocl_decode.cpp turns them into a DecodeResult).
#define S_TOKENS 0      // tokens in the stream, a truncated last one included
#define S_TRUNC_INDEX 1 // index of the truncated token (0xFFFFFFFF: none)
#define S_TRUNC_POS 2   // its byte offset
#define S_TRUNC_BITS 3  // 16, 32 or 64: the escape that was cut short
#define S_POS_N 4       // byte offset of token number `elements` (when the stream holds more)
#define STATUS_WORDS 8

// The batch buffer starts with the meta words, then the tile -> frame words (at word tile_frame_word).
#define META(in) ((__global const uint*)(in))
#define TILE_FRAME(in) (META(in) + tile_frame_word)

#define NO_INDEX 0xFFFFFFFFu
#define IDENTITY_MAP 0xFEDCBA9876543210UL

// "a then b": (a;b)(e) = b(a(e)) for the 15 entry states.
inline ulong compose(ulong a, ulong b) {
  ulong r = 0;
  for (uint e = 0; e < 15; ++e) {
    uint x = (uint)(a >> (4 * e)) & 15u;
    r |= ((b >> (4 * x)) & 15UL) << (4 * e);
  }
  return r | (15UL << 60);
}
inline uint apply_map(ulong m, uint e) { return (uint)(m >> (4 * e)) & 15u; }

// The token at b[q] (absolute position p of a stream of n bytes): its length (1, 3, 7, 15) and the low 32 bits of
// its delta; 0 when the stream ends inside it (*bits: the escape cut short).
inline uint token(__local const uchar* b, uint q, uint p, uint n, uint* delta, uint* bits) {
  uchar c = b[q];
  if (c != 0x80) {
    *delta = (uint)(int)(char)c;
    return 1;
  }
  if (n - p < 3) {
    *bits = 16;
    return 0;
  }
  short d16 = (short)((ushort)b[q + 1] | ((ushort)b[q + 2] << 8));
  if (d16 != (short)0x8000) {
    *delta = (uint)(int)d16;
    return 3;
  }
  if (n - p < 7) {
    *bits = 32;
    return 0;
  }
  uint d32 = (uint)b[q + 3] | ((uint)b[q + 4] << 8) | ((uint)b[q + 5] << 16) | ((uint)b[q + 6] << 24);
  if (d32 != 0x80000000u) {
    *delta = d32;
    return 7;
  }
  if (n - p < 15) {
    *bits = 64;
    return 0;
  }
  *delta = (uint)b[q + 7] | ((uint)b[q + 8] << 8) | ((uint)b[q + 9] << 16) | ((uint)b[q + 10] << 24);
  return 15;
}

// The tile's bytes (and HALO bytes after it) in local memory; zeros past the end of the stream.
inline void load_tile(__global const uchar* in, uint in_off, uint tile_start, uint n, __local uchar* b) {
  uint lid = get_local_id(0);
  for (uint i = lid; i < TILE + HALO; i += WG) {
    uint p = tile_start + i;
    b[i] = p < n ? in[in_off + p] : (uchar)0;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
}

// Entry state of the next chunk for every entry state of this one (backward pass over the 16 positions).
inline ulong chunk_map(__local const uchar* b, uint q0, uint p0, uint n) {
  ulong m = 0;
  for (int q = CHUNK - 1; q >= 0; --q) {
    uint d, bits;
    uint len = token(b, q0 + q, p0 + q, n, &d, &bits);
    if (len == 0) len = 15;  // cut short: the stream ends there anyway
    uint nq = (uint)q + len;
    uint ex = nq >= CHUNK ? nq - CHUNK : (uint)(m >> (4 * nq)) & 15u;
    m |= (ulong)ex << (4 * q);
  }
  return m;
}

// Inclusive scan of maps over the work-group (Hillis-Steele: any WG, not only powers of two).
inline ulong scan_maps(ulong v, __local ulong* s) {
  uint lid = get_local_id(0);
  s[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = 1; off < WG; off <<= 1) {
    ulong x = s[lid];
    if (lid >= off) x = compose(s[lid - off], x);
    barrier(CLK_LOCAL_MEM_FENCE);
    s[lid] = x;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return s[lid];
}

// Inclusive scan of (count, sum) pairs over the work-group; s must hold WG uint2. Sums wrap modulo 2^32.
inline uint2 scan_pairs(uint2 v, __local uint2* s) {
  uint lid = get_local_id(0);
  s[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = 1; off < WG; off <<= 1) {
    uint2 x = s[lid];
    if (lid >= off) x += s[lid - off];
    barrier(CLK_LOCAL_MEM_FENCE);
    s[lid] = x;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return s[lid];
}

// The tile's map, and for each chunk the map of the chunks before it in the tile (applied to the tile's entry
// state by bo_tile_counts).
__kernel void bo_tile_maps(__global const uchar* in, uint tile_frame_word, __global ulong* tile_map,
                           __global ulong* chunk_prefix) {
  __local uchar b[TILE + HALO];
  __local ulong s[WG];
  uint g = get_group_id(0), lid = get_local_id(0);
  __global const uint* m = META(in) + TILE_FRAME(in)[g] * META_WORDS;
  uint tile_start = (g - m[M_TILE_FIRST]) * TILE;
  load_tile(in, m[M_IN_OFFSET], tile_start, m[M_BYTES], b);
  ulong v = chunk_map(b, lid * CHUNK, tile_start + lid * CHUNK, m[M_BYTES]);
  v = scan_maps(v, s);
  chunk_prefix[(size_t)g * WG + lid] = lid == 0 ? IDENTITY_MAP : s[lid - 1];
  if (lid == WG - 1) tile_map[g] = v;
}

// One work-group per frame. Each thread composes a run of consecutive tiles, the runs are scanned, then each
// thread walks its run with the concrete state.
__kernel void bo_frame_entries(__global const uchar* in, __global const ulong* tile_map,
                               __global uchar* tile_entry) {
  __local ulong s[WG];
  __global const uint* m = META(in) + get_group_id(0) * META_WORDS;
  uint lid = get_local_id(0);
  uint first = m[M_TILE_FIRST], tiles = m[M_TILES];
  uint per = (tiles + WG - 1) / WG;
  uint a = min(tiles, lid * per), z = min(tiles, a + per);
  ulong run = IDENTITY_MAP;
  for (uint t = a; t < z; ++t) run = compose(run, tile_map[first + t]);
  scan_maps(run, s);
  ulong exc = lid == 0 ? IDENTITY_MAP : s[lid - 1];
  uint state = apply_map(exc, 0);
  for (uint t = a; t < z; ++t) {
    tile_entry[first + t] = (uchar)state;
    state = apply_map(tile_map[first + t], state);
  }
}

// Entry state of each chunk (kept in chunk_entry), tokens and delta sum of the tile.
__kernel void bo_tile_counts(__global const uchar* in, uint tile_frame_word,
                             __global const uchar* tile_entry, __global const ulong* chunk_prefix,
                             __global uchar* chunk_entry, __global uint2* tile_sum) {
  __local uchar b[TILE + HALO];
  __local uint2 s2[WG];
  uint g = get_group_id(0), lid = get_local_id(0);
  __global const uint* m = META(in) + TILE_FRAME(in)[g] * META_WORDS;
  uint n = m[M_BYTES];
  uint tile_start = (g - m[M_TILE_FIRST]) * TILE;
  load_tile(in, m[M_IN_OFFSET], tile_start, n, b);
  uint q0 = lid * CHUNK, p0 = tile_start + q0;
  uint e = apply_map(chunk_prefix[(size_t)g * WG + lid], tile_entry[g]);
  chunk_entry[(size_t)g * WG + lid] = (uchar)e;
  uint count = 0, sum = 0;
  for (uint q = e; q < CHUNK && p0 + q < n;) {
    uint d, bits;
    uint len = token(b, q0 + q, p0 + q, n, &d, &bits);
    ++count;
    if (len == 0) break;
    sum += d;
    q += len;
  }
  uint2 tot = scan_pairs((uint2)(count, sum), s2);
  if (lid == WG - 1) tile_sum[g] = tot;
}

// One work-group per frame: exclusive scan of tile (count, sum) -> tile_base; the frame's token count.
__kernel void bo_frame_bases(__global const uchar* in, __global const uint2* tile_sum, __global uint2* tile_base,
                             __global uint* status) {
  __local uint2 s[WG];
  uint f = get_group_id(0), lid = get_local_id(0);
  __global const uint* m = META(in) + f * META_WORDS;
  uint first = m[M_TILE_FIRST], tiles = m[M_TILES];
  uint per = (tiles + WG - 1) / WG;
  uint a = min(tiles, lid * per), z = min(tiles, a + per);
  uint2 run = (uint2)(0, 0);
  for (uint t = a; t < z; ++t) run += tile_sum[first + t];
  uint2 inc = scan_pairs(run, s);
  uint2 acc = inc - run;
  for (uint t = a; t < z; ++t) {
    tile_base[first + t] = acc;
    acc += tile_sum[first + t];
  }
  __global uint* st = status + f * STATUS_WORDS;
  if (lid == WG - 1) {
    st[S_TOKENS] = inc.x;
    st[S_TRUNC_INDEX] = NO_INDEX;
    st[S_TRUNC_POS] = 0;
    st[S_TRUNC_BITS] = 0;
    st[S_POS_N] = m[M_BYTES];
  }
}

// The running 32-bit value as the element type, as int32 bits or float bits (kernels/byte_offset_detail.hpp).
inline uint convert_value(uint v, uint type, uint as_float) {
  int iv;
  switch (type) {
    case 0: iv = (int)(char)(uchar)v; break;
    case 1: iv = (int)(v & 0xFFu); break;
    case 2: iv = (int)(short)(ushort)v; break;
    case 3: iv = (int)(v & 0xFFFFu); break;
    case 5:
      if (as_float) return as_uint(convert_float_rte(v));
      iv = (int)v;
      break;
    default: iv = (int)v; break;
  }
  return as_float ? as_uint(convert_float_rte(iv)) : (uint)iv;
}

__kernel void bo_tile_write(__global const uchar* in, uint tile_frame_word,
                            __global const uchar* chunk_entry, __global const uint2* tile_base,
                            __global uint* out, uint as_float, __global uint* status) {
  __local uchar b[TILE + HALO];
  __local uint2 s[WG];
  __local uint vals[TILE];
  __local uint cut;  // tile index of a truncated last token, TILE when none
  uint g = get_group_id(0), lid = get_local_id(0);
  if (lid == 0) cut = TILE;
  uint f = TILE_FRAME(in)[g];
  __global const uint* m = META(in) + f * META_WORDS;
  uint n = m[M_BYTES], wanted = m[M_ELEMENTS], type = m[M_TYPE];
  uint tile_start = (g - m[M_TILE_FIRST]) * TILE;
  load_tile(in, m[M_IN_OFFSET], tile_start, n, b);
  uint q0 = lid * CHUNK, p0 = tile_start + q0;
  uint e = chunk_entry[(size_t)g * WG + lid];
  uint count = 0, sum = 0;
  for (uint q = e; q < CHUNK && p0 + q < n;) {
    uint d, bits;
    uint len = token(b, q0 + q, p0 + q, n, &d, &bits);
    ++count;
    if (len == 0) break;
    sum += d;
    q += len;
  }
  uint2 mine = (uint2)(count, sum);
  uint2 inc = scan_pairs(mine, s);
  uint2 base = tile_base[g];
  uint tile_count = s[WG - 1].x;
  uint k = inc.x - count;           // index of my first token within the tile
  uint value = base.y + inc.y - sum;  // running value before my first token
  __global uint* st = status + f * STATUS_WORDS;
  for (uint q = e; q < CHUNK && p0 + q < n; ++k) {
    uint d, bits;
    uint len = token(b, q0 + q, p0 + q, n, &d, &bits);
    uint idx = base.x + k;
    if (idx == wanted) st[S_POS_N] = p0 + q;
    if (len == 0) {
      cut = k;
      st[S_TRUNC_INDEX] = idx;
      st[S_TRUNC_POS] = p0 + q;
      st[S_TRUNC_BITS] = bits;
      break;
    }
    value += d;
    vals[k] = value;
    q += len;
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  // Coalesced stores of the tile's values; nothing at or past `wanted`, nothing for a truncated last token.
  __global uint* o = out + m[M_OUT_OFFSET];
  uint limit = min(min(tile_count, cut), wanted > base.x ? wanted - base.x : 0u);
  for (uint i = lid; i < limit; i += WG) o[base.x + i] = convert_value(vals[i], type, as_float);
}
