// The pixel-major engine (see integrate_csc.hpp).
#include "kernels/integrate_csc.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <stdexcept>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <tbb/parallel_for.h>

#include "kernels/csr.hpp"
#include "kernels/integrate_engine.hpp"
#include "kernels/integrate_parallel.hpp"

namespace xrd::integration {

namespace {

constexpr uint16_t kNone = 0xFFFF;       // pixel not in the matrix
constexpr uint16_t kIrregular = 0xFFFE;  // pixel in the irregular list
constexpr int kMaxCompactBins = 4095;    // bins fit in 12 bits, and 0xFFFE/0xFFFF stay free
constexpr int kMaxSpan = 16;             // bins per pixel in the compact code (k < 16)

}  // namespace

CscIntegrator::Accumulator CscIntegrator::make_accumulator() const {
  Accumulator a;
  a.sv.assign(2 * static_cast<size_t>(bins_), 0.0);
  a.masked.assign(4 * static_cast<size_t>(bins_), 0.0);
  return a;
}

CscIntegrator::CscIntegrator(const Setup& setup, int threads) : sums_(setup) {
  const auto t0 = std::chrono::steady_clock::now();
  const Csr& csr = setup.csr;
  bins_ = csr.bins;
  pixels_ = csr.pixels();

  const Csc csc = to_csc(csr, threads);
  compact_ = bins_ <= kMaxCompactBins;
  auto add_irregular = [&](size_t p) {
    irr_pixel_.push_back(static_cast<uint32_t>(p));
    for (int32_t k = csc.col_ptr[p]; k < csc.col_ptr[p + 1]; ++k) {
      irr_bin_.push_back(csc.row[k]);
      irr_w_.push_back(csc.val[k]);
    }
    irr_ptr_.push_back(static_cast<int32_t>(irr_bin_.size()));
  };
  irr_ptr_.push_back(0);
  if (!compact_) {
    for (size_t p = 0; p < pixels_; ++p)
      if (csc.col_ptr[p + 1] > csc.col_ptr[p]) add_irregular(p);
  } else {
    // A pixel is "regular" when its bins are consecutive, at most kMaxSpan of them, and its weight is 1 (one
    // bin) or its last weight is float(1 - the others) (then it need not be stored): every pixel of
    // build_csr's matrices, in practice.
    code_.assign(pixels_, kNone);
    const size_t blocks = (pixels_ + kBlock - 1) / kBlock;
    std::vector<uint32_t> nweights(blocks, 0);
    auto regular = [&](size_t p) {
      const int32_t k0 = csc.col_ptr[p], k1 = csc.col_ptr[p + 1];
      const int32_t n = k1 - k0;
      if (n == 1) return csc.val[k0] == 1.0f;
      if (n > kMaxSpan) return false;
      double rest = 1.0;
      for (int32_t k = k0; k < k1 - 1; ++k) {
        if (csc.row[k + 1] != csc.row[k] + 1) return false;
        rest -= csc.val[k];
      }
      return csc.val[k1 - 1] == static_cast<float>(rest);  // build_csr's rule: the last weight is derived
    };
    in_arena(threads, [&] {
      tbb::parallel_for(size_t(0), blocks, [&](size_t blk) {
        uint32_t nw = 0;
        for (size_t p = blk * kBlock; p < std::min(pixels_, (blk + 1) * kBlock); ++p) {
          const int32_t n = csc.col_ptr[p + 1] - csc.col_ptr[p];
          if (n == 0) continue;
          if (!regular(p)) {
            code_[p] = kIrregular;
            continue;
          }
          code_[p] = static_cast<uint16_t>(csc.row[csc.col_ptr[p]] | ((n - 1) << 12));
          nw += static_cast<uint32_t>(n - 1);
        }
        nweights[blk] = nw;
      });
    });
    block_offset_.assign(blocks + 1, 0);
    for (size_t blk = 0; blk < blocks; ++blk) block_offset_[blk + 1] = block_offset_[blk] + nweights[blk];
    weights_.resize(block_offset_[blocks]);
    in_arena(threads, [&] {
      tbb::parallel_for(size_t(0), blocks, [&](size_t blk) {
        uint32_t off = block_offset_[blk];
        for (size_t p = blk * kBlock; p < std::min(pixels_, (blk + 1) * kBlock); ++p) {
          if (code_[p] >= kIrregular) continue;
          for (int32_t k = csc.col_ptr[p]; k < csc.col_ptr[p + 1] - 1; ++k) weights_[off++] = csc.val[k];
        }
      });
    });
    weights_.push_back(0.0f);  // padding: the hot loop reads one weight ahead
    for (size_t p = 0; p < pixels_; ++p)
      if (code_[p] == kIrregular) add_irregular(p);
    // The bins each image row touches (a second bin is touched by a one-bin pixel too, with weight 0).
    width_ = csr.width;
    row_lo_.assign(csr.height, bins_);
    row_hi_.assign(csr.height, -1);
    for (size_t p = 0; p < pixels_; ++p) {
      if (code_[p] >= kIrregular) continue;
      const size_t r = p / width_;
      const int b = code_[p] & 0xFFF;
      row_lo_[r] = std::min(row_lo_[r], b);
      row_hi_[r] = std::max(row_hi_[r], b + 1 + (code_[p] >> 12));
    }
  }
  build_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t CscIntegrator::layout_bytes() const {
  return code_.size() * sizeof(uint16_t) + weights_.size() * sizeof(float) + irr_pixel_.size() * 4 +
         irr_ptr_.size() * 4 + irr_bin_.size() * 4 + irr_w_.size() * 4;
}

void CscIntegrator::mask_pixel(size_t p, std::span<const int32_t> bins, std::span<const float> w,
                               Accumulator& acc) const {
  acc.any_masked = true;
  for (size_t i = 0; i < bins.size(); ++i) sums_.add_masked(bins[i], p, w[i], acc.masked);
}

void CscIntegrator::accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const {
  if (first + values.size() > pixels_)
    throw std::out_of_range("CscIntegrator::accumulate: pixels out of range");
  if (compact_) accumulate_compact(first, values, acc);
  accumulate_csc(first, values, acc);
}

namespace {

// Interleaved copies of the accumulators, so that consecutive pixels (which often fall in the same bin) do
// not wait for each other's read-modify-write: pixel i adds to copy i % kCopies. The copies of one bin share
// a cache line. A per-thread scratch, all zero between calls (each call zeroes the bins it used).
typedef double v2d __attribute__((vector_size(16)));
constexpr size_t kCopies = 4;

// (v, max(v, 1)): the signal and its Poisson variance, without a branch (compilers turn max(v, 1) into a test
// of v == 0 otherwise, which mispredicts on low-count images).
inline v2d signal_variance(int32_t v) {
  const double x = v;
#if defined(__SSE2__)
  return _mm_max_pd(v2d{x, x}, v2d{-1.0, 1.0});
#else
  return v2d{x, x > 1.0 ? x : 1.0};
#endif
}

std::vector<v2d>& scratch_for(size_t bins) {
  thread_local std::vector<v2d> s;
  if (s.size() < kCopies * (bins + 2)) s.assign(kCopies * (bins + 2), v2d{0, 0});
  return s;
}

}  // namespace

void CscIntegrator::accumulate_compact(size_t first, std::span<const int32_t> values,
                                       Accumulator& acc) const {
  const size_t n = values.size();
  if (n == 0) return;
  // Offset of the first pixel's weights: from its block's start, skip the weights of the pixels before it.
  size_t off = block_offset_[first / kBlock];
  for (size_t q = first / kBlock * kBlock; q < first; ++q)
    if (code_[q] < kIrregular) off += code_[q] >> 12;
  const uint16_t* code = code_.data() + first;
  const int32_t* val = values.data();
  const float* wts = weights_.data();  // padded with one element: read ahead of the select below
  std::vector<v2d>& scratch = scratch_for(static_cast<size_t>(bins_));
  v2d* a = scratch.data();

  // The rare cases: pixel out of the matrix or irregular (skipped), negative value (masked in this frame),
  // more than 2 bins (general loop).
  auto slow = [&](size_t i, uint16_t c, int32_t v) {
    if (c >= kIrregular) return;
    const size_t b = c & 0xFFF;
    const unsigned k = c >> 12;
    if (v < 0) {
      int32_t bb[kMaxSpan];
      float ww[kMaxSpan];
      double rest = 1.0;
      for (unsigned j = 0; j < k; ++j)
        bb[j] = static_cast<int32_t>(b + j), ww[j] = wts[off + j], rest -= ww[j];
      bb[k] = static_cast<int32_t>(b + k), ww[k] = static_cast<float>(rest);
      mask_pixel(first + i, {bb, k + 1}, {ww, k + 1}, acc);
    } else {
      const double x = v, m = v > 1 ? x : 1.0;
      const v2d xm = {x, m};
      double rest = 1.0;
      for (unsigned j = 0; j < k; ++j) {
        const double w = wts[off + j];
        a[(b + j) * kCopies] += xm * v2d{w, w * w};
        rest -= w;
      }
      const double last = static_cast<float>(rest);
      a[(b + k) * kCopies] += xm * v2d{last, last * last};
    }
    off += k;
  };

  if (weights_.size() <= 1) {
    // No split pixel anywhere (no splitting): every regular pixel adds (v, max(v, 1)) to its bin.
    for (size_t i = 0; i < n; ++i) {
      const uint16_t c = code[i];
      const int32_t v = val[i];
      if ((c >> 12) | (v < 0)) [[unlikely]] {
        slow(i, c, v);
        continue;
      }
      a[c * kCopies + (i & (kCopies - 1))] += signal_variance(v);
    }
  } else {
    // One or two bins per pixel without a branch: a one-bin pixel is a two-bin pixel of weights 1 and 0.
    for (size_t i = 0; i < n; ++i) {
      const uint16_t c = code[i];
      const int32_t v = val[i];
      if ((c >> 13) | (v < 0)) [[unlikely]] {
        slow(i, c, v);
        continue;
      }
      const unsigned k = c >> 12;  // 0 or 1
      const size_t b = c & 0xFFF;
      // w = k ? weight : 1, selected on the bits: the compilers turn the ternary into a mispredicted branch.
      const uint32_t sel = 0u - k;
      const double w = std::bit_cast<float>((std::bit_cast<uint32_t>(wts[off]) & sel) | (0x3f800000u & ~sel));
      off += k;
      const double u = static_cast<float>(1.0 - w);  // the matrix's last weight, exactly (see build_csr)
      const v2d xm = signal_variance(v);
      v2d* ab = a + b * kCopies + (i & (kCopies - 1));
      ab[0] += xm * v2d{w, w * w};
      ab[kCopies] += xm * v2d{u, u * u};
    }
  }

  // Fold the copies of the bins these rows can touch into the caller's accumulator, and zero them again.
  const size_t r0 = first / width_, r1 = (first + n - 1) / width_;
  int lo = bins_, hi = -1;
  for (size_t r = r0; r <= r1; ++r) lo = std::min(lo, row_lo_[r]), hi = std::max(hi, row_hi_[r]);
  double* sv = acc.sv.data();
  for (int b = lo; b <= hi; ++b) {
    v2d sum = {0, 0};
    for (size_t c = 0; c < kCopies; ++c) {
      sum += a[static_cast<size_t>(b) * kCopies + c];
      a[static_cast<size_t>(b) * kCopies + c] = v2d{0, 0};
    }
    if (b < bins_) sv[2 * b] += sum[0], sv[2 * b + 1] += sum[1];  // bin `bins_` only ever gets weight 0
  }
}

// The irregular pixels of [first, first + n) (every pixel when the layout is not compact): plain CSC.
void CscIntegrator::accumulate_csc(size_t first, std::span<const int32_t> values, Accumulator& acc) const {
  const auto lo = std::lower_bound(irr_pixel_.begin(), irr_pixel_.end(), static_cast<uint32_t>(first));
  const auto hi = std::lower_bound(lo, irr_pixel_.end(), static_cast<uint32_t>(first + values.size()));
  double* sv = acc.sv.data();
  for (auto it = lo; it != hi; ++it) {
    const size_t i = static_cast<size_t>(it - irr_pixel_.begin());
    const size_t p = *it;
    const int32_t k0 = irr_ptr_[i], k1 = irr_ptr_[i + 1];
    const int32_t v = values[p - first];
    if (v < 0) {
      mask_pixel(p, {irr_bin_.data() + k0, static_cast<size_t>(k1 - k0)},
                 {irr_w_.data() + k0, static_cast<size_t>(k1 - k0)}, acc);
      continue;
    }
    const double x = v, m = v > 1 ? x : 1.0;
    for (int32_t k = k0; k < k1; ++k) {
      const double w = irr_w_[k];
      sv[2 * static_cast<size_t>(irr_bin_[k])] += w * x;
      sv[2 * static_cast<size_t>(irr_bin_[k]) + 1] += w * w * m;
    }
  }
}

void CscIntegrator::finish(const Accumulator& acc, Pattern& out) const {
  sums_.finish(acc.sv, acc.any_masked ? std::span<const double>(acc.masked) : std::span<const double>(), out);
}

void CscIntegrator::integrate(std::span<const int32_t> image, Pattern& out, Workspace& ws) const {
  if (image.size() != pixels_)
    throw std::invalid_argument("image has " + std::to_string(image.size()) +
                                " pixels, the matrix was built for " + std::to_string(pixels_));
  const size_t blocks = (pixels_ + kBlock - 1) / kBlock;
  if (ws.blocks.size() != blocks || (blocks && ws.blocks[0].sv.size() != 2 * static_cast<size_t>(bins_))) {
    ws.blocks.assign(blocks, make_accumulator());
    ws.total = make_accumulator();
  }
  tbb::parallel_for(size_t(0), blocks, [&](size_t blk) {
    Accumulator& a = ws.blocks[blk];
    a.clear();
    const size_t p0 = blk * kBlock, p1 = std::min(pixels_, p0 + kBlock);
    accumulate(p0, image.subspan(p0, p1 - p0), a);
  });
  ws.total.clear();
  for (const Accumulator& a : ws.blocks) ws.total.add(a);
  finish(ws.total, out);
}

void CscIntegrator::integrate(std::span<const int32_t> image, Pattern& out) const {
  Workspace ws;
  integrate(image, out, ws);
}

namespace {

// CscIntegrator behind the Engine interface. variant(): "compact" (16-bit codes) or "plain" (too many bins for them).
class CscEngine : public Engine {
 public:
  CscEngine(const Setup& s, int threads) : c_(s, threads) {}
  std::string name() const override { return "csc"; }
  std::string variant() const override { return c_.compact() ? "compact" : "plain"; }
  double build_seconds() const override { return c_.build_seconds(); }
  size_t layout_bytes() const override { return c_.layout_bytes(); }
  struct Ws : Workspace {
    CscIntegrator::Workspace ws;
  };
  std::unique_ptr<Workspace> make_workspace() const override { return std::make_unique<Ws>(); }
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace* ws) const override {
    if (ws)
      c_.integrate(image, out, static_cast<Ws*>(ws)->ws);
    else
      c_.integrate(image, out);
  }
  bool blockwise() const override { return true; }
  Accumulator make_accumulator() const override { return c_.make_accumulator(); }
  void accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const override {
    c_.accumulate(first, values, acc);
  }
  void finish(const Accumulator& acc, Pattern& out) const override { c_.finish(acc, out); }

 private:
  CscIntegrator c_;
};

}  // namespace

std::unique_ptr<Engine> make_csc_engine(const Setup& setup, const EngineConfig& config) {
  if (!config.variant.empty())
    throw std::invalid_argument("the csc engine has no variant '" + config.variant + "'");
  return std::make_unique<CscEngine>(setup, config.threads);
}

}  // namespace xrd::integration
