// Units and methods by name, the Setup build (positions -> range -> matrix, corrections) and the reference
// engine.
#include "kernels/integrate.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "base/enum_names.hpp"
#include "kernels/csr.hpp"
#include "kernels/geometry.hpp"
#include "kernels/integrate_engine.hpp"

namespace xrd::integration {

namespace {
constexpr EnumName<Unit> kUnitNames[] = {{Unit::tth_deg, "2th_deg"}, {Unit::tth_rad, "2th_rad"}, {Unit::q_nm, "q_nm^-1"},
                                         {Unit::q_A, "q_A^-1"},      {Unit::r_mm, "r_mm"}};
constexpr EnumName<Split> kSplitNames[] = {{Split::none, "no"}, {Split::bbox, "bbox"}, {Split::full, "full"}};
}  // namespace

const char* to_string(Unit u) { return enum_name(kUnitNames, u); }
Unit parse_unit(const std::string& s) { return parse_enum(kUnitNames, s, "unit"); }

const char* to_string(Split s) { return enum_name(kSplitNames, s); }
Split parse_split(const std::string& s) { return parse_enum(kSplitNames, s, "pixel splitting"); }

void Pattern::resize(size_t bins) {
  for (auto* v : {&radial, &intensity, &sigma, &count, &sum_signal, &sum_normalization}) v->resize(bins);
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Setup build_setup(const Geometry& g, std::span<const uint8_t> mask, size_t width, size_t height,
                  const Options& opt, std::span<const float> dark, std::span<const float> flat, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = width * height;
  if (n == 0) throw std::invalid_argument("image shape is empty");
  if (!mask.empty() && mask.size() != n)
    throw std::invalid_argument("mask has " + std::to_string(mask.size()) + " pixels, the image " +
                                std::to_string(n));
  if (!dark.empty() && dark.size() != n)
    throw std::invalid_argument("dark has " + std::to_string(dark.size()) + " pixels, the image " +
                                std::to_string(n));
  if (!flat.empty() && flat.size() != n)
    throw std::invalid_argument("flat has " + std::to_string(flat.size()) + " pixels, the image " +
                                std::to_string(n));
  if (opt.bins < 1) throw std::invalid_argument("bins must be at least 1");
  if (opt.polarization && !(*opt.polarization >= -1 && *opt.polarization <= 1))
    throw std::invalid_argument("polarization factor must lie in [-1, 1]");
  if (!std::isfinite(opt.normalization) || opt.normalization == 0)
    throw std::invalid_argument("normalization factor must be finite and nonzero");
  if (!(g.dist > 0) || !(g.pixel1 > 0) || !(g.pixel2 > 0))
    throw std::invalid_argument("geometry needs a positive distance and pixel sizes");

  // Positions in the unit's internal representation (pyFAI works with scale=False and scales the bin
  // centres).
  const double scale = unit_scale(opt.unit);
  std::optional<double> lo, hi;
  if (opt.radial_min) lo = *opt.radial_min / scale;
  if (opt.radial_max) hi = *opt.radial_max / scale;
  const PixelPositions pos = pixel_positions(g, width, height, opt.unit, opt.split, threads);

  Setup s;
  // norm = normalization factor * flat * polarization * solid angle; the image is divided by it.
  s.norm.assign(n, static_cast<float>(opt.normalization));
  {
    std::vector<float> tmp(n);
    if (opt.solid_angle) {
      solid_angle(g, width, height, tmp, threads);
      for (size_t p = 0; p < n; ++p) s.norm[p] *= tmp[p];
    }
    if (opt.polarization) {
      polarization(g, width, height, *opt.polarization, tmp, threads);
      for (size_t p = 0; p < n; ++p) s.norm[p] *= tmp[p];
    }
  }
  if (!flat.empty())
    for (size_t p = 0; p < n; ++p) s.norm[p] *= flat[p];
  if (!dark.empty()) s.dark.assign(dark.begin(), dark.end());
  s.geometry_seconds = seconds_since(t0);

  // The range comes from the mask file's pixels only (as pyFAI's); the matrix also leaves out the pixels no
  // frame can use: normalisation 0 or not finite (a flat of 0), dark not finite (pyFAI masks them in every
  // frame).
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<uint8_t> range_mask;
  if (!mask.empty()) {
    range_mask.resize(n);
    for (size_t p = 0; p < n; ++p) range_mask[p] = mask[p] != 0;
  }
  const RadialRange rg = radial_range(pos, range_mask, opt.bins, lo, hi, threads);
  std::vector<uint8_t> excluded(n);
  size_t masked = 0;
  for (size_t p = 0; p < n; ++p) {
    const bool bad = (!mask.empty() && mask[p]) || !std::isfinite(s.norm[p]) || s.norm[p] == 0 ||
                     (!dark.empty() && !std::isfinite(dark[p]));
    excluded[p] = bad;
    masked += bad;
  }
  s.csr = build_csr(pos, excluded, rg, threads);
  s.csr.unit = opt.unit;
  s.csr.radial.resize(static_cast<size_t>(opt.bins));
  const double delta = rg.delta();
  for (int b = 0; b < opt.bins; ++b) s.csr.radial[b] = (rg.min + (b + 0.5) * delta) * scale;
  s.csr.radial_lo = rg.min * scale;
  s.csr.radial_hi = rg.max * scale;
  s.masked_pixels = masked;
  s.matrix_seconds = seconds_since(t1);
  s.build_seconds = seconds_since(t0);
  return s;
}

void finish_pattern(const Csr& csr, std::span<const double> sum_variance, Pattern& out) {
  finish_pattern(csr.radial, sum_variance, out);
}

void finish_pattern(std::span<const double> radial, std::span<const double> sum_variance, Pattern& out) {
  const size_t bins = radial.size();
  out.radial.assign(radial.begin(), radial.end());
  out.intensity.resize(bins);
  out.sigma.resize(bins);
  for (size_t b = 0; b < bins; ++b) {
    if (out.count[b] > 0 && out.sum_normalization[b] != 0) {
      out.intensity[b] = out.sum_signal[b] / out.sum_normalization[b];
      out.sigma[b] = std::sqrt(sum_variance[b]) / out.sum_normalization[b];
    } else {
      out.intensity[b] = 0;  // pyFAI's "empty" value
      out.sigma[b] = 0;
    }
  }
}

namespace {

// The four sums of bins [b0, b1) (the definition in integrate.hpp).
void csr_rows(const Setup& s, std::span<const int32_t> image, size_t b0, size_t b1, Pattern& out,
              std::vector<double>& variance) {
  const Csr& csr = s.csr;
  const bool has_dark = !s.dark.empty();
  for (size_t b = b0; b < b1; ++b) {
    double sig = 0, var = 0, nrm = 0, cnt = 0;
    for (int32_t k = csr.row_ptr[b]; k < csr.row_ptr[b + 1]; ++k) {
      const int32_t p = csr.col[k];
      const int32_t v = image[p];
      if (v < 0) continue;  // Pilatus gaps (-1) and bad pixels (-2): masked in every frame
      const double w = csr.val[k];
      sig += w * (has_dark ? v - static_cast<double>(s.dark[p]) : static_cast<double>(v));
      var += w * w * std::max(static_cast<double>(v), 1.0);  // Poisson, as pyFAI: variance = max(I, 1)
      nrm += w * s.norm[p];
      cnt += w;
    }
    out.sum_signal[b] = sig;
    variance[b] = var;
    out.sum_normalization[b] = nrm;
    out.count[b] = cnt;
  }
}

size_t checked_bins(const Setup& s, std::span<const int32_t> image) {
  if (image.size() != s.csr.pixels())
    throw std::invalid_argument("image has " + std::to_string(image.size()) +
                                " pixels, the matrix was built for " + std::to_string(s.csr.pixels()));
  return static_cast<size_t>(s.csr.bins);
}

}  // namespace

void integrate(const Setup& s, std::span<const int32_t> image, Pattern& out) {
  const size_t bins = checked_bins(s, image);
  out.resize(bins);
  thread_local std::vector<double> variance;
  variance.assign(bins, 0.0);
  csr_rows(s, image, 0, bins, out, variance);
  finish_pattern(s.csr, variance, out);
}

void integrate_csr_parallel(const Setup& s, std::span<const int32_t> image, Pattern& out) {
  const size_t bins = checked_bins(s, image);
  out.resize(bins);
  thread_local std::vector<double> variance;
  variance.assign(bins, 0.0);
  std::vector<double>& var = variance;  // this thread's buffer, filled by the tasks
  tbb::parallel_for(tbb::blocked_range<size_t>(0, bins, 16), [&](const tbb::blocked_range<size_t>& r) {
    csr_rows(s, image, r.begin(), r.end(), out, var);
  });
  finish_pattern(s.csr, variance, out);
}

namespace {

// The reference and csr-parallel engines behind the Engine interface (they keep a reference to the Setup).
class ReferenceEngine : public Engine {
 public:
  explicit ReferenceEngine(const Setup& s) : s_(s) {}
  std::string name() const override { return "reference"; }
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace*) const override {
    integration::integrate(s_, image, out);
  }

 private:
  const Setup& s_;
};

class CsrParallelEngine : public Engine {
 public:
  explicit CsrParallelEngine(const Setup& s) : s_(s) {}
  std::string name() const override { return "csr-parallel"; }
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace*) const override {
    integrate_csr_parallel(s_, image, out);
  }

 private:
  const Setup& s_;
};

void no_variant(const char* engine, const EngineConfig& c) {
  if (!c.variant.empty())
    throw std::invalid_argument(std::string("the ") + engine + " engine has no variant '" + c.variant + "'");
}

}  // namespace

std::unique_ptr<Engine> make_reference_engine(const Setup& setup, const EngineConfig& config) {
  no_variant("reference", config);
  return std::make_unique<ReferenceEngine>(setup);
}

std::unique_ptr<Engine> make_csr_parallel_engine(const Setup& setup, const EngineConfig& config) {
  no_variant("csr-parallel", config);
  return std::make_unique<CsrParallelEngine>(setup);
}

}  // namespace xrd::integration
