// The integration matrix: pyFAI 0.21's radial range rule and pixel splitting (pyFAI/ext/splitBBox_common.pyx,
// splitpixel_common.pyx, regrid_common.pxi), rewritten as a deterministic parallel two-pass build.
#include "kernels/csr.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "kernels/geometry.hpp"
#include "kernels/integrate_parallel.hpp"

namespace xrd::integration {

namespace {

// pyFAI's EPS32 = 1 + numpy.finfo(float32).eps: the upper bound of the range is nudged up by it.
constexpr double kEps32 = 1.0 + 1.1920928955078125e-07;
double calc_upper_bound(double v) { return v > 0 ? v * kEps32 : v / kEps32; }

bool excluded_at(std::span<const uint8_t> ex, size_t p) { return !ex.empty() && ex[p] != 0; }

// The four corners of pixel (i, j) in pyFAI's order: A (i, j), B (i+1, j), C (i+1, j+1), D (i, j+1).
struct Quad {
  double r[4], chi[4];
};
Quad quad_of(const PixelPositions& pos, size_t i, size_t j) {
  const size_t w1 = pos.width + 1;
  const size_t idx[4] = {i * w1 + j, (i + 1) * w1 + j, (i + 1) * w1 + j + 1, i * w1 + j + 1};
  Quad q;
  for (int k = 0; k < 4; ++k) {
    q.r[k] = pos.corner_radial[idx[k]];
    q.chi[k] = pos.corner_chi[idx[k]];
  }
  return q;
}

// Signed area under the segment (x0, y0) -> (x1, y1) within each unit-wide strip [k, k+1) of `buf` (strip k
// is buf[k - first]); summed over a closed polygon's edges this is the polygon's area per strip (the
// trapezoid rule is exact on straight edges). As pyFAI's _integrate1d, in double here.
void integrate_edge(double* buf, long first, long n, double x0, double y0, double x1, double y1) {
  if (x0 == x1) return;
  const double slope = (y1 - y0) / (x1 - x0);
  const double icpt = y0 - slope * x0;
  auto area = [&](double a, double b) { return (b - a) * (0.5 * slope * (b + a) + icpt); };
  const double lo = std::min(x0, x1), hi = std::max(x0, x1);
  const double sign = x1 > x0 ? 1.0 : -1.0;
  const long k0 = std::max(static_cast<long>(std::floor(lo)), first);
  const long k1 = std::min(static_cast<long>(std::floor(hi)), first + n - 1);
  for (long k = k0; k <= k1; ++k) {
    const double a = std::max(lo, static_cast<double>(k));
    const double b = std::min(hi, static_cast<double>(k + 1));
    if (b > a) buf[k - first] += sign * area(a, b);
  }
}

// The entries of one pixel: (bin, weight) for each bin it overlaps, bins increasing, weights summing to 1
// (the parts of a pixel outside the range go to the edge bins (bbox) or are renormalised away (full), as in
// pyFAI).
struct Entries {
  std::vector<int32_t> bin;
  std::vector<double> w;
  void clear() { bin.clear(), w.clear(); }
  void add(long b, double weight) { bin.push_back(static_cast<int32_t>(b)), w.push_back(weight); }
};

void pixel_entries(const PixelPositions& pos, const RadialRange& rg, size_t p, std::vector<double>& scratch,
                   Entries& out) {
  out.clear();
  const int bins = rg.bins;
  const double delta = rg.delta();
  auto fbin = [&](double x) { return (x - rg.min) / delta; };  // pyFAI get_bin_number
  switch (pos.split) {
    case Split::none: {
      // Truncation toward zero, as the C cast in pyFAI: a centre within one bin below the range lands in bin
      // 0.
      const long b = static_cast<long>(fbin(pos.centre[p]));
      if (b >= 0 && b < bins) out.add(b, 1.0);
      return;
    }
    case Split::bbox: {
      // The pixel as the interval [centre - delta, centre + delta], spread uniformly over the bins it covers.
      const double c = pos.centre[p], d = pos.delta[p];
      const double f0 = fbin(c - d), f1 = fbin(c + d);
      long b0 = static_cast<long>(f0), b1 = static_cast<long>(f1);
      if (b1 < 0 || b0 >= bins) return;
      b1 = std::min<long>(b1, bins - 1);
      b0 = std::max<long>(b0, 0);
      if (b0 == b1) {
        out.add(b0, 1.0);
        return;
      }
      const double inv_area = 1.0 / (f1 - f0);
      out.add(b0, inv_area * (static_cast<double>(b0 + 1) - f0));
      for (long b = b0 + 1; b < b1; ++b) out.add(b, inv_area);
      out.add(b1, inv_area * (f1 - static_cast<double>(b1)));
      return;
    }
    case Split::full: {
      // The pixel as the quadrilateral of its 4 corners in (radial, chi) space; each bin gets the fraction of
      // the quadrilateral's area that lies in its radial strip (normalised over the bins inside the range).
      const size_t i = p / pos.width, j = p % pos.width;
      Quad q = quad_of(pos, i, j);
      double x[4], y[4];
      for (int k = 0; k < 4; ++k) {
        x[k] = fbin(q.r[k]);
        // chi relative to corner A, wrapped into [-pi, pi]: a pixel on the chi discontinuity (+-pi) stays
        // whole.
        double dy = q.chi[k] - q.chi[0];
        if (dy > std::numbers::pi) dy -= 2 * std::numbers::pi;
        if (dy < -std::numbers::pi) dy += 2 * std::numbers::pi;
        y[k] = dy;
      }
      const double mn = std::min({x[0], x[1], x[2], x[3]}), mx = std::max({x[0], x[1], x[2], x[3]});
      if (mx < 0 || mn >= bins) return;
      long b0 = static_cast<long>(std::floor(mn)), b1 = static_cast<long>(std::floor(mx));
      if (b0 == b1) {
        out.add(b0, 1.0);
        return;
      }
      b0 = std::max<long>(b0, 0);
      b1 = std::min<long>(b1, bins - 1);
      const long n = b1 - b0 + 1;
      double* area = scratch.data();
      std::fill(area, area + n, 0.0);
      for (int k = 0; k < 4; ++k) integrate_edge(area, b0, n, x[k], y[k], x[(k + 1) % 4], y[(k + 1) % 4]);
      double sum = 0;
      for (long k = 0; k < n; ++k) sum += area[k];
      if (!(sum != 0) || !std::isfinite(sum)) {
        // Degenerate quadrilateral (zero area): its extent in radial instead, uniformly.
        sum = 0;
        for (long k = 0; k < n; ++k) {
          const double lo = std::max(mn, static_cast<double>(b0 + k)),
                       hi = std::min(mx, static_cast<double>(b0 + k + 1));
          area[k] = std::max(0.0, hi - lo);
          sum += area[k];
        }
      }
      const double inv = 1.0 / sum;
      for (long k = 0; k < n; ++k)
        if (area[k] != 0) out.add(b0 + k, area[k] * inv);
      return;
    }
  }
}

}  // namespace

double RadialRange::delta() const { return (max - min) / bins; }

PixelPositions pixel_positions(const Geometry& g, size_t width, size_t height, Unit u, Split split,
                               int threads) {
  if (unit_needs_wavelength(u) && !(g.wavelength > 0))
    throw std::invalid_argument(std::string("unit ") + to_string(u) +
                                " needs the wavelength (none in the geometry)");
  PixelPositions pos;
  pos.width = width;
  pos.height = height;
  pos.split = split;
  if (split == Split::none || split == Split::bbox) {
    pos.centre.resize(width * height);
    centre_radial(g, width, height, u, pos.centre, threads);
  }
  if (split == Split::bbox || split == Split::full) {
    pos.corner_radial.resize((width + 1) * (height + 1));
    pos.corner_chi.resize((width + 1) * (height + 1));
    corner_grid(g, width, height, u, pos.corner_radial, pos.corner_chi, threads);
  }
  if (split == Split::bbox) {
    // delta = max over the 4 corners of |corner - centre| (pyFAI delta_array: float32 corners, double
    // centres).
    pos.delta.resize(width * height);
    const size_t w1 = width + 1;
    in_arena(threads, [&] {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, height, 8), [&](const tbb::blocked_range<size_t>& r) {
        for (size_t i = r.begin(); i < r.end(); ++i)
          for (size_t j = 0; j < width; ++j) {
            const double c = pos.centre[i * width + j];
            const float* top = &pos.corner_radial[i * w1 + j];
            const float* bottom = top + w1;
            pos.delta[i * width + j] = std::max({std::abs(top[0] - c), std::abs(bottom[0] - c),
                                                 std::abs(bottom[1] - c), std::abs(top[1] - c)});
          }
      });
    });
    pos.corner_radial = {};
    pos.corner_chi = {};
  }
  return pos;
}

RadialRange radial_range(const PixelPositions& pos, std::span<const uint8_t> excluded, int bins,
                         std::optional<double> min, std::optional<double> max, int threads) {
  if (bins < 1) throw std::invalid_argument("the number of bins must be at least 1");
  const size_t n = pos.width * pos.height;
  if (!excluded.empty() && excluded.size() != n)
    throw std::invalid_argument("mask size differs from the image's");
  struct MinMax {
    double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  };
  MinMax mm;
  if (!min || !max) {
    in_arena(threads, [&] {
      mm = tbb::parallel_reduce(
          tbb::blocked_range<size_t>(0, n, 1 << 14), MinMax{},
          [&](const tbb::blocked_range<size_t>& r, MinMax m) {
            for (size_t p = r.begin(); p < r.end(); ++p) {
              if (excluded_at(excluded, p)) continue;
              switch (pos.split) {
                case Split::none:
                  m.lo = std::min(m.lo, pos.centre[p]);
                  m.hi = std::max(m.hi, pos.centre[p]);
                  break;
                case Split::bbox:
                  m.lo = std::min(m.lo, pos.centre[p] - pos.delta[p]);
                  m.hi = std::max(m.hi, pos.centre[p] + pos.delta[p]);
                  break;
                case Split::full: {
                  const Quad q = quad_of(pos, p / pos.width, p % pos.width);
                  for (double r : q.r) m.lo = std::min(m.lo, r), m.hi = std::max(m.hi, r);
                  break;
                }
              }
            }
            return m;
          },
          [](MinMax a, MinMax b) {
            return MinMax{std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
          });
    });
    if (!(mm.lo <= mm.hi)) throw std::invalid_argument("every pixel is masked: no radial range");
    // Radial positions are not negative (pyFAI's allow_pos0_neg=False).
    mm.lo = std::max(0.0, mm.lo);
    mm.hi = std::max(0.0, mm.hi);
  }
  RadialRange rg;
  rg.bins = bins;
  rg.min = min ? *min : mm.lo;
  rg.max_in = max ? *max : mm.hi;
  if (min && max && !(*min < *max))
    throw std::invalid_argument("radial range: the minimum must be below the maximum");
  rg.max = calc_upper_bound(rg.max_in);
  if (!(rg.min < rg.max)) throw std::invalid_argument("radial range is empty");
  return rg;
}

Csr build_csr(const PixelPositions& pos, std::span<const uint8_t> excluded, const RadialRange& range,
              int threads) {
  const size_t n = pos.width * pos.height;
  if (!excluded.empty() && excluded.size() != n)
    throw std::invalid_argument("mask size differs from the image's");
  if (range.bins < 1) throw std::invalid_argument("the number of bins must be at least 1");
  const int bins = range.bins;
  // Pass 1: each block of rows lists its entries (bin, pixel, weight) in pixel order and counts them per bin.
  constexpr size_t kRows = 16;
  const size_t blocks = (pos.height + kRows - 1) / kRows;
  struct Entry {
    int32_t bin, pixel;
    float w;
  };
  std::vector<std::vector<Entry>> entries(blocks);
  std::vector<int32_t> counts(blocks * static_cast<size_t>(bins), 0);
  in_arena(threads, [&] {
    tbb::parallel_for(size_t(0), blocks, [&](size_t blk) {
      std::vector<double> scratch(static_cast<size_t>(bins) + 2);
      Entries px;
      auto& e = entries[blk];
      int32_t* cnt = &counts[blk * static_cast<size_t>(bins)];
      const size_t p0 = blk * kRows * pos.width, p1 = std::min(n, (blk + 1) * kRows * pos.width);
      for (size_t p = p0; p < p1; ++p) {
        if (excluded_at(excluded, p)) continue;
        pixel_entries(pos, range, p, scratch, px);
        // A last fraction below float32's resolution of 1 would be derived with the wrong sign: it is left
        // out (at most 1.2e-7 of the pixel moves to its neighbouring bin).
        while (px.bin.size() > 1 && px.w.back() < 0x1p-23) px.bin.pop_back(), px.w.pop_back();
        // Weights are stored as float32. A pixel's weights sum to 1, and its last one is stored as
        // float(1 - the others): then an engine that keeps all but the last (integrate_fast) derives it
        // exactly.
        double rest = 1.0;
        for (size_t k = 0; k < px.bin.size(); ++k) {
          const float w = k + 1 < px.bin.size() ? static_cast<float>(px.w[k]) : static_cast<float>(rest);
          rest -= w;
          e.push_back({px.bin[k], static_cast<int32_t>(p), w});
          ++cnt[px.bin[k]];
        }
      }
    });
  });
  // Row pointers, and where each block starts within each row.
  Csr csr;
  csr.bins = bins;
  csr.width = pos.width;
  csr.height = pos.height;
  csr.split = pos.split;
  csr.row_ptr.assign(static_cast<size_t>(bins) + 1, 0);
  std::vector<int64_t> start(blocks * static_cast<size_t>(bins));
  int64_t total = 0;
  for (int b = 0; b < bins; ++b) {
    csr.row_ptr[b] = static_cast<int32_t>(total);
    for (size_t blk = 0; blk < blocks; ++blk) {
      start[blk * bins + b] = total;
      total += counts[blk * bins + b];
    }
  }
  if (total > std::numeric_limits<int32_t>::max())
    throw std::length_error("CSR matrix has more than 2^31 entries");
  csr.row_ptr[bins] = static_cast<int32_t>(total);
  csr.col.resize(static_cast<size_t>(total));
  csr.val.resize(static_cast<size_t>(total));
  // Pass 2: each block copies its entries to their place (pixel order within a row is kept).
  in_arena(threads, [&] {
    tbb::parallel_for(size_t(0), blocks, [&](size_t blk) {
      int64_t* cur = &start[blk * static_cast<size_t>(bins)];
      for (const Entry& e : entries[blk]) {
        const int64_t k = cur[e.bin]++;
        csr.col[k] = e.pixel;
        csr.val[k] = e.w;
      }
      entries[blk] = {};
    });
  });
  return csr;
}

Csc to_csc(const Csr& csr, int threads) {
  Csc csc;
  csc.bins = csr.bins;
  csc.pixels = csr.pixels();
  csc.col_ptr.assign(csc.pixels + 1, 0);
  for (int32_t p : csr.col) ++csc.col_ptr[static_cast<size_t>(p) + 1];
  for (size_t p = 0; p < csc.pixels; ++p) csc.col_ptr[p + 1] += csc.col_ptr[p];
  csc.row.resize(csr.nnz());
  csc.val.resize(csr.nnz());
  // Parallel over pixel ranges: each range walks every row from the first entry >= its start (rows are
  // sorted).
  constexpr size_t kChunk = 1 << 15;
  const size_t chunks = (csc.pixels + kChunk - 1) / kChunk;
  in_arena(threads, [&] {
    tbb::parallel_for(size_t(0), chunks, [&](size_t c) {
      const int32_t p0 = static_cast<int32_t>(c * kChunk);
      const int32_t p1 = static_cast<int32_t>(std::min(csc.pixels, (c + 1) * kChunk));
      std::vector<int32_t> cur(csc.col_ptr.begin() + p0, csc.col_ptr.begin() + p1);
      for (int b = 0; b < csr.bins; ++b) {
        auto first = csr.col.begin() + csr.row_ptr[b], last = csr.col.begin() + csr.row_ptr[b + 1];
        for (auto it = std::lower_bound(first, last, p0); it != last && *it < p1; ++it) {
          const int32_t k = cur[*it - p0]++;
          csc.row[k] = b;
          csc.val[k] = csr.val[it - csr.col.begin()];
        }
      }
    });
  });
  return csc;
}

}  // namespace xrd::integration
