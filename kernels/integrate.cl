// CSR integration of a batch of int32 images (OpenCL C 1.2). Built with -DWG=<threads per group>.
// One work-group per (bin, frame); float32 products summed with compensation (Kahan, merged with TwoSum), so the
// sums agree with the double-precision reference engine to ~1e-7 relative.
//
// Per bin and frame it writes OUT_WORDS floats, each sum as a (hi, lo) pair the host adds in double:
//   signal   = sum w * v            over pixels with v >= 0
//   variance = sum w^2 * max(v, 1)  over pixels with v >= 0
//   count    = sum w                over pixels with v >= 0
//   neg_norm = sum w * norm         over pixels with v < 0 (masked in this frame)
//   neg_dark = sum w * dark         over pixels with v < 0
// The host completes them with the per-bin sums of w * norm and w * dark over the whole row (computed once, in
// double): sum_normalization = all_norm - neg_norm, sum_signal = signal - (all_dark - neg_dark).
// (The definitions are the reference engine's: kernels/integrate.hpp.)

#define OUT_WORDS 10

// Compensated sum: the value is s.x + s.y.
inline float2 kadd(float2 s, float x) {
  float y = x + s.y;
  float t = s.x + y;
  s.y = y - (t - s.x);
  s.x = t;
  return s;
}
inline float2 kmerge(float2 a, float2 b) {
  float t = a.x + b.x;
  float e = fabs(a.x) >= fabs(b.x) ? (a.x - t) + b.x : (b.x - t) + a.x;
  return (float2)(t, a.y + b.y + e);
}

__kernel void csr_integrate(__global const int* row_ptr, __global const int* col, __global const float* val,
                            __global const float* norm, __global const float* dark, uint has_dark,
                            __global const int* images, uint pixels, uint bins, __global float* out) {
  __local float2 s[5][WG];
  uint b = get_group_id(0), f = get_group_id(1), lid = get_local_id(0);
  __global const int* img = images + (size_t)f * pixels;
  int a = row_ptr[b], z = row_ptr[b + 1];
  float2 sig = (float2)(0.0f), var = (float2)(0.0f), cnt = (float2)(0.0f), nn = (float2)(0.0f),
         nd = (float2)(0.0f);
  for (int k = a + (int)lid; k < z; k += WG) {
    int p = col[k];
    float w = val[k];
    int v = img[p];
    if (v >= 0) {
      float fv = (float)v;
      sig = kadd(sig, w * fv);
      var = kadd(var, w * w * fmax(fv, 1.0f));
      cnt = kadd(cnt, w);
    } else {
      nn = kadd(nn, w * norm[p]);
      if (has_dark) nd = kadd(nd, w * dark[p]);
    }
  }
  s[0][lid] = sig;
  s[1][lid] = var;
  s[2][lid] = cnt;
  s[3][lid] = nn;
  s[4][lid] = nd;
  barrier(CLK_LOCAL_MEM_FENCE);
  // Tree reduction for any WG: the upper half of the active width folds onto the lower.
  for (uint width = WG; width > 1;) {
    uint upper = (width + 1) / 2;
    if (lid < width - upper)
      for (int q = 0; q < 5; ++q) s[q][lid] = kmerge(s[q][lid], s[q][lid + upper]);
    barrier(CLK_LOCAL_MEM_FENCE);
    width = upper;
  }
  __global float* o = out + ((size_t)f * bins + b) * OUT_WORDS;
  for (uint q = lid; q < 5; q += WG) {
    o[2 * q] = s[q][0].x;
    o[2 * q + 1] = s[q][0].y;
  }
}
