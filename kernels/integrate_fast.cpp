// The fast engine: strips of kBlock pixels, bin-major inside a strip, gathered (see integrate_fast.hpp).
#include "kernels/integrate_fast.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XRD_X86 1
#endif

#include <tbb/parallel_for.h>

#include "kernels/integrate_engine.hpp"
#include "kernels/integrate_parallel.hpp"
#include "kernels/integrate_sums.hpp"

namespace xrd::integration {

namespace {

// The sums of n entries: value x = base[off - lo] (its pixel is strip_start + off), weight w (1 when w is
// null). Entries whose value is negative go to `masked` instead. The definition; the loops below must equal
// it.
void part_plain(const int32_t* base, const uint16_t* off, const float* w, size_t n, uint32_t lo, int32_t bin,
                size_t strip_start, double& s, double& v, std::vector<FastIntegrator::Masked>& masked) {
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = base[off[i] - lo];
    const float wi = w ? w[i] : 1.0f;
    if (x < 0) {
      masked.push_back({bin, static_cast<uint32_t>(strip_start + off[i]), wi});
      continue;
    }
    const double xd = x, wd = wi;
    s += wd * xd;
    v += wd * wd * (x > 1 ? xd : 1.0);
  }
}

// Four entries at a time into four pairs of sums (independent chains of additions), scalar loads: the fastest
// loop where gathers are slow (AMD Zen: ~1.5 cycles per gathered element, a scalar load ~0.5).
template <bool Weighted>
void part_scalar(const int32_t* base, const uint16_t* off, const float* w, size_t n, uint32_t lo, int32_t bin,
                 size_t strip_start, double& s, double& v, std::vector<FastIntegrator::Masked>& masked) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, v0 = 0, v1 = 0, v2 = 0, v3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const int32_t x0 = base[off[i] - lo], x1 = base[off[i + 1] - lo];
    const int32_t x2 = base[off[i + 2] - lo], x3 = base[off[i + 3] - lo];
    if ((x0 | x1 | x2 | x3) < 0) [[unlikely]] {
      part_plain(base, off + i, Weighted ? w + i : nullptr, 4, lo, bin, strip_start, s, v, masked);
      continue;
    }
    const double d0 = x0, d1 = x1, d2 = x2, d3 = x3;
    const double m0 = std::max(d0, 1.0), m1 = std::max(d1, 1.0), m2 = std::max(d2, 1.0),
                 m3 = std::max(d3, 1.0);
    if constexpr (Weighted) {
      const double w0 = w[i], w1 = w[i + 1], w2 = w[i + 2], w3 = w[i + 3];
      s0 += w0 * d0, s1 += w1 * d1, s2 += w2 * d2, s3 += w3 * d3;
      v0 += w0 * w0 * m0, v1 += w1 * w1 * m1, v2 += w2 * w2 * m2, v3 += w3 * w3 * m3;
    } else {
      s0 += d0, s1 += d1, s2 += d2, s3 += d3;
      v0 += m0, v1 += m1, v2 += m2, v3 += m3;
    }
  }
  part_plain(base, off + i, Weighted ? w + i : nullptr, n - i, lo, bin, strip_start, s, v, masked);
  s += (s0 + s1) + (s2 + s3);
  v += (v0 + v1) + (v2 + v3);
}

#ifdef XRD_X86
// Eight entries at a time: gather the 8 values, 4 + 4 double lanes accumulate w*x and w^2*max(x, 1). A group
// with a negative value (rare: a pixel failing in this frame only) goes through part_scalar.
template <bool Weighted>
__attribute__((target("avx2,fma"))) void part_avx2(const int32_t* base, const uint16_t* off, const float* w,
                                                   size_t n, uint32_t lo, int32_t bin, size_t strip_start,
                                                   double& s, double& v,
                                                   std::vector<FastIntegrator::Masked>& masked) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256i lov = _mm256_set1_epi32(static_cast<int>(lo));
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, v0 = s0, v1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i idx = _mm256_sub_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(off + i))), lov);
    const __m256i xi = _mm256_i32gather_epi32(base, idx, 4);
    if (_mm256_movemask_ps(_mm256_castsi256_ps(xi)) != 0) [[unlikely]] {
      part_plain(base, off + i, Weighted ? w + i : nullptr, 8, lo, bin, strip_start, s, v, masked);
      continue;
    }
    const __m256d x0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(xi));
    const __m256d x1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(xi, 1));
    const __m256d m0 = _mm256_max_pd(x0, one), m1 = _mm256_max_pd(x1, one);
    if constexpr (Weighted) {
      const __m256 wf = _mm256_loadu_ps(w + i);
      const __m256d w0 = _mm256_cvtps_pd(_mm256_castps256_ps128(wf));
      const __m256d w1 = _mm256_cvtps_pd(_mm256_extractf128_ps(wf, 1));
      s0 = _mm256_fmadd_pd(w0, x0, s0);
      s1 = _mm256_fmadd_pd(w1, x1, s1);
      v0 = _mm256_fmadd_pd(_mm256_mul_pd(w0, w0), m0, v0);
      v1 = _mm256_fmadd_pd(_mm256_mul_pd(w1, w1), m1, v1);
    } else {
      s0 = _mm256_add_pd(s0, x0);
      s1 = _mm256_add_pd(s1, x1);
      v0 = _mm256_add_pd(v0, m0);
      v1 = _mm256_add_pd(v1, m1);
    }
  }
  part_plain(base, off + i, Weighted ? w + i : nullptr, n - i, lo, bin, strip_start, s, v, masked);
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(s0, s1));
  s += (t[0] + t[1]) + (t[2] + t[3]);
  _mm256_store_pd(t, _mm256_add_pd(v0, v1));
  v += (t[0] + t[1]) + (t[2] + t[3]);
}

bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
bool cpu_has_avx2() { return false; }
#endif

// Whether gathers beat scalar loads on this CPU: both loops on one synthetic strip (runs of neighbouring
// pixels, as a ring crossing image rows), best of 7, once per process.
bool gathers_are_faster() {
#ifdef XRD_X86
  static const bool faster = [] {
    if (!cpu_has_avx2()) return false;
    constexpr size_t n = 1 << 15;
    std::vector<int32_t> img(FastIntegrator::kBlock);
    std::vector<uint16_t> off(n);
    std::vector<float> w(n);
    for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<int32_t>((i * 2654435761u) >> 27);
    for (size_t i = 0; i < n; ++i) {
      off[i] = static_cast<uint16_t>((i / 4) * 1475 / 2 % FastIntegrator::kBlock + i % 4);
      w[i] = 0.25f + 0.5f * static_cast<float>(i % 3) / 3;
    }
    std::sort(off.begin(), off.end());
    std::vector<FastIntegrator::Masked> none;
    auto best = [&](auto&& loop) {
      double t = 1e30;
      for (int r = 0; r < 7; ++r) {
        double s = 0, v = 0;
        const auto t0 = std::chrono::steady_clock::now();
        loop(s, v);
        t = std::min(t, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (s < 0) t = 0;  // keeps the loop's result alive
      }
      return t;
    };
    const double tg = best([&](double& s, double& v) {
      part_avx2<false>(img.data(), off.data(), nullptr, n, 0, 0, 0, s, v, none);
      part_avx2<true>(img.data(), off.data(), w.data(), n, 0, 0, 0, s, v, none);
    });
    const double ts = best([&](double& s, double& v) {
      part_scalar<false>(img.data(), off.data(), nullptr, n, 0, 0, 0, s, v, none);
      part_scalar<true>(img.data(), off.data(), w.data(), n, 0, 0, 0, s, v, none);
    });
    return tg < ts;
  }();
  return faster;
#else
  return false;
#endif
}

// Reads one value per cache line of a strip, in order, before its segments read them in ring order: a
// sequential pass the hardware prefetchers follow brings the strip into L2 (and its pages into the TLB) at
// streaming speed; cold, the segments' scattered first touches cost ~4x the whole integration (seen on Zen
// 4).
void touch(const int32_t* p, size_t n) {
  int32_t t = 0;
  for (size_t i = 0; i < n; i += 16) t |= p[i];
  asm volatile("" : : "r"(t));  // the reads are the point: keep them
}

}  // namespace

void FastIntegrator::Accumulator::clear() {
  std::fill(sv.begin(), sv.end(), 0.0);
  if (any_masked) std::fill(masked.begin(), masked.end(), 0.0);
  any_masked = false;
}

void FastIntegrator::Accumulator::add(const Accumulator& o) {
  for (size_t i = 0; i < sv.size(); ++i) sv[i] += o.sv[i];
  if (o.any_masked) {
    for (size_t i = 0; i < masked.size(); ++i) masked[i] += o.masked[i];
    any_masked = true;
  }
}

FastIntegrator::Accumulator FastIntegrator::make_accumulator() const {
  Accumulator a;
  a.sv.assign(2 * static_cast<size_t>(bins_), 0.0);
  a.masked.assign(4 * static_cast<size_t>(bins_), 0.0);
  return a;
}

FastIntegrator::~FastIntegrator() = default;
FastIntegrator::FastIntegrator(FastIntegrator&&) noexcept = default;

FastIntegrator::FastIntegrator(const Setup& setup, int threads, Kernel kernel)
    : sums_(std::make_unique<StaticSums>(setup)) {
  const auto t0 = std::chrono::steady_clock::now();
  const Csr& csr = setup.csr;
  bins_ = csr.bins;
  pixels_ = csr.pixels();
  gather_ = kernel == Kernel::gather && cpu_has_avx2();
  if (csr.nnz() > UINT32_MAX) throw std::length_error("FastIntegrator: more than 2^32 matrix entries");

  // Per strip, per bin: the row's entries inside the strip (rows are sorted by pixel), weight-1 entries
  // first.
  const size_t strips = (pixels_ + kBlock - 1) / kBlock;
  struct Local {
    std::vector<Segment> seg;
    std::vector<uint16_t> off;
    std::vector<float> w;
  };
  std::vector<Local> local(strips);
  in_arena(threads, [&] {
    tbb::parallel_for(size_t(0), strips, [&](size_t s) {
      Local& L = local[s];
      const int32_t p0 = static_cast<int32_t>(s * kBlock);
      const int32_t p1 = static_cast<int32_t>(std::min(pixels_, (s + 1) * kBlock));
      std::vector<std::pair<uint16_t, float>> split;
      for (int b = 0; b < bins_; ++b) {
        const auto first = csr.col.begin() + csr.row_ptr[b], last = csr.col.begin() + csr.row_ptr[b + 1];
        auto it = std::lower_bound(first, last, p0);
        if (it == last || *it >= p1) continue;
        Segment g{b, static_cast<uint32_t>(L.off.size()), 0, 0, static_cast<uint32_t>(L.w.size())};
        split.clear();
        for (; it != last && *it < p1; ++it) {
          const uint16_t o = static_cast<uint16_t>(*it - p0);
          const float w = csr.val[it - csr.col.begin()];
          if (w == 1.0f)
            L.off.push_back(o);
          else
            split.emplace_back(o, w);
        }
        g.mid = static_cast<uint32_t>(L.off.size());
        for (auto& [o, w] : split) L.off.push_back(o), L.w.push_back(w);
        g.end = static_cast<uint32_t>(L.off.size());
        L.seg.push_back(g);
      }
    });
  });
  // Concatenate, strip by strip.
  strip_seg_.assign(strips + 1, 0);
  size_t nseg = 0, noff = 0, nw = 0;
  for (size_t s = 0; s < strips; ++s) {
    strip_seg_[s] = static_cast<uint32_t>(nseg);
    nseg += local[s].seg.size(), noff += local[s].off.size(), nw += local[s].w.size();
  }
  strip_seg_[strips] = static_cast<uint32_t>(nseg);
  segments_.reserve(nseg);
  offsets_.reserve(noff);
  weights_.reserve(nw);
  for (Local& L : local) {
    const uint32_t ob = static_cast<uint32_t>(offsets_.size()), wb = static_cast<uint32_t>(weights_.size());
    for (Segment g : L.seg) {
      g.begin += ob, g.mid += ob, g.end += ob, g.wbegin += wb;
      segments_.push_back(g);
    }
    offsets_.insert(offsets_.end(), L.off.begin(), L.off.end());
    weights_.insert(weights_.end(), L.w.begin(), L.w.end());
    L = {};
  }
  if (kernel == Kernel::automatic) gather_ = cpu_has_avx2() && gathers_win();
  build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Both loops over up to 4 strips of this matrix (from a third of the way in, where the rings cross the strips) with
// a synthetic image, interleaved, the best of 5 each. The matrix's own segments decide: a synthetic strip of one long
// run of offsets (gathers_are_faster(), now only the answer for a matrix with no segments) chose the scalar loop on a
// Zen 4 VM where the gathers integrate the real matrix 1.5x faster (fused, 2 cores: 541 vs 357 frames/s), the real
// strips holding many short segments.
bool FastIntegrator::gathers_win() {
  const size_t strips = strip_seg_.size() - 1;
  if (strips == 0 || segments_.empty()) return gathers_are_faster();
  const size_t first = strips / 3, count = std::min<size_t>(4, strips - first);
  std::vector<int32_t> img(kBlock);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<int32_t>((i * 2654435761u) >> 22);  // >= 0: unmasked
  std::vector<Masked> masked;
  volatile double keep = 0;  // the sums stay alive
  auto pass = [&](bool g) {
    gather_ = g;
    double s = 0, v = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t st = first; st < first + count; ++st) {
      const uint32_t len = static_cast<uint32_t>(std::min(pixels_, (st + 1) * kBlock) - st * kBlock);
      for (uint32_t gi = strip_seg_[st]; gi < strip_seg_[st + 1]; ++gi)
        segment_sums(segments_[gi], img.data(), 0, len, true, st, s, v, masked);
    }
    keep = keep + s + v;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double tg = 1e30, ts = 1e30;
  for (int r = 0; r < 5; ++r) {
    tg = std::min(tg, pass(true));
    ts = std::min(ts, pass(false));
  }
  return tg < ts;
}

size_t FastIntegrator::layout_bytes() const {
  return segments_.size() * sizeof(Segment) + offsets_.size() * sizeof(uint16_t) +
         weights_.size() * sizeof(float) + strip_seg_.size() * sizeof(uint32_t);
}

const char* FastIntegrator::kernel() const { return gather_ ? "avx2-gather" : "scalar"; }

void FastIntegrator::segment_sums(const Segment& g, const int32_t* base, uint32_t lo, uint32_t hi, bool whole,
                                  size_t strip, double& s, double& v, std::vector<Masked>& masked) const {
  uint32_t u0 = g.begin, u1 = g.mid, f0 = g.mid, f1 = g.end;
  if (!whole) {
    // Entries of each part are sorted by offset: cut out those in [lo, hi).
    const uint16_t* o = offsets_.data();
    u0 = static_cast<uint32_t>(std::lower_bound(o + g.begin, o + g.mid, lo) - o);
    u1 = static_cast<uint32_t>(std::lower_bound(o + u0, o + g.mid, hi) - o);
    f0 = static_cast<uint32_t>(std::lower_bound(o + g.mid, o + g.end, lo) - o);
    f1 = static_cast<uint32_t>(std::lower_bound(o + f0, o + g.end, hi) - o);
  }
  const size_t strip_start = strip * kBlock;
  const uint16_t* off = offsets_.data();
  const float* w = weights_.data() + g.wbegin + (f0 - g.mid);  // the weight of split entry f0
#ifdef XRD_X86
  if (gather_) {
    part_avx2<false>(base, off + u0, nullptr, u1 - u0, lo, g.bin, strip_start, s, v, masked);
    part_avx2<true>(base, off + f0, w, f1 - f0, lo, g.bin, strip_start, s, v, masked);
    return;
  }
#endif
  part_scalar<false>(base, off + u0, nullptr, u1 - u0, lo, g.bin, strip_start, s, v, masked);
  part_scalar<true>(base, off + f0, w, f1 - f0, lo, g.bin, strip_start, s, v, masked);
}

void FastIntegrator::accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const {
  const size_t end = first + values.size();
  if (end > pixels_) throw std::out_of_range("FastIntegrator::accumulate: pixels out of range");
  if (values.empty()) return;
  thread_local std::vector<Masked> masked;
  masked.clear();
  for (size_t s = first / kBlock; s <= (end - 1) / kBlock; ++s) {
    const size_t strip_start = s * kBlock, strip_end = std::min(pixels_, strip_start + kBlock);
    const uint32_t lo = static_cast<uint32_t>(std::max(first, strip_start) - strip_start);
    const uint32_t hi = static_cast<uint32_t>(std::min(end, strip_end) - strip_start);
    const bool whole = lo == 0 && hi == strip_end - strip_start;
    const int32_t* base = values.data() + (strip_start + lo - first);  // the value at offset lo
    touch(base, hi - lo);
    for (uint32_t gi = strip_seg_[s]; gi < strip_seg_[s + 1]; ++gi) {
      const Segment& g = segments_[gi];
      double sum = 0, var = 0;
      segment_sums(g, base, lo, hi, whole, s, sum, var, masked);
      acc.sv[2 * static_cast<size_t>(g.bin)] += sum;
      acc.sv[2 * static_cast<size_t>(g.bin) + 1] += var;
    }
  }
  if (!masked.empty()) {
    acc.any_masked = true;
    for (const Masked& m : masked) sums_->add_masked(m.bin, m.pixel, m.w, acc.masked);
  }
}

void FastIntegrator::finish(const Accumulator& acc, Pattern& out) const {
  sums_->finish(acc.sv, acc.any_masked ? std::span<const double>(acc.masked) : std::span<const double>(),
                out);
}

void FastIntegrator::integrate(std::span<const int32_t> image, Pattern& out, Workspace& ws) const {
  if (image.size() != pixels_)
    throw std::invalid_argument("image has " + std::to_string(image.size()) +
                                " pixels, the matrix was built for " + std::to_string(pixels_));
  const size_t strips = strip_seg_.size() - 1;
  ws.segments.resize(2 * segments_.size());
  ws.masked.resize(strips);
  if (ws.total.sv.size() != 2 * static_cast<size_t>(bins_)) ws.total = make_accumulator();
  // Each strip's segments write their own sums: no accumulator to clear or merge per block.
  tbb::parallel_for(size_t(0), strips, [&](size_t s) {
    auto& masked = ws.masked[s];
    masked.clear();
    const size_t len = std::min(pixels_, (s + 1) * kBlock) - s * kBlock;
    const int32_t* base = image.data() + s * kBlock;
    touch(base, len);
    for (uint32_t gi = strip_seg_[s]; gi < strip_seg_[s + 1]; ++gi) {
      double sum = 0, var = 0;
      segment_sums(segments_[gi], base, 0, static_cast<uint32_t>(len), true, s, sum, var, masked);
      ws.segments[2 * gi] = sum;
      ws.segments[2 * gi + 1] = var;
    }
  });
  // Merge in a fixed order: the result does not depend on the thread count.
  Accumulator& t = ws.total;
  t.clear();
  for (size_t gi = 0; gi < segments_.size(); ++gi) {
    const size_t b = static_cast<size_t>(segments_[gi].bin);
    t.sv[2 * b] += ws.segments[2 * gi];
    t.sv[2 * b + 1] += ws.segments[2 * gi + 1];
  }
  for (const auto& masked : ws.masked)
    for (const Masked& m : masked) sums_->add_masked(m.bin, m.pixel, m.w, t.masked), t.any_masked = true;
  finish(t, out);
}

void FastIntegrator::integrate(std::span<const int32_t> image, Pattern& out) const {
  Workspace ws;
  integrate(image, out, ws);
}

namespace {

// FastIntegrator behind the Engine interface. Variants: "auto" (the default: the faster loop on this CPU, timed
// once), "gather" (AVX2 gathers; scalar without AVX2), "scalar"; variant() says the loop in use.
class FastEngine : public Engine {
 public:
  FastEngine(const Setup& s, int threads, FastIntegrator::Kernel k) : f_(s, threads, k) {}
  std::string name() const override { return "fast"; }
  std::string variant() const override { return f_.kernel(); }
  double build_seconds() const override { return f_.build_seconds(); }
  size_t layout_bytes() const override { return f_.layout_bytes(); }
  struct Ws : Workspace {
    FastIntegrator::Workspace ws;
  };
  std::unique_ptr<Workspace> make_workspace() const override { return std::make_unique<Ws>(); }
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace* ws) const override {
    if (ws)
      f_.integrate(image, out, static_cast<Ws*>(ws)->ws);
    else
      f_.integrate(image, out);
  }
  bool blockwise() const override { return true; }
  Accumulator make_accumulator() const override { return f_.make_accumulator(); }
  void accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const override {
    f_.accumulate(first, values, acc);
  }
  void finish(const Accumulator& acc, Pattern& out) const override { f_.finish(acc, out); }

 private:
  FastIntegrator f_;
};

}  // namespace

std::unique_ptr<Engine> make_fast_engine(const Setup& setup, const EngineConfig& config) {
  FastIntegrator::Kernel k;
  if (config.variant.empty() || config.variant == "auto")
    k = FastIntegrator::Kernel::automatic;
  else if (config.variant == "gather")
    k = FastIntegrator::Kernel::gather;
  else if (config.variant == "scalar")
    k = FastIntegrator::Kernel::scalar;
  else
    throw std::invalid_argument("the fast engine's variant is auto, gather or scalar, not '" + config.variant + "'");
  return std::make_unique<FastEngine>(setup, config.threads, k);
}

}  // namespace xrd::integration
