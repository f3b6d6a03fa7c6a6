// Azimuthal integration: one geometry -> one CSR matrix (bins x pixels) -> several engines (CPU here, OpenCL
// in kernels/ocl_*). The types every engine and strategy share live here, with the plain reference engine.
//
// What every engine computes (pyFAI 0.21 "ng" integrators, Poisson error model), for bin b and a frame v:
//   a pixel p takes part when it is in row b of the matrix (not masked statically) and v[p] >= 0 (negative
//   values are Pilatus gaps -1 and bad pixels -2: masked in every frame, whatever the mask file says);
//   with w = the matrix weight of (b, p):
//     sum_signal[b]        = sum w * (v[p] - dark[p])
//     sum_variance[b]      = sum w^2 * max(v[p], 1)          (Poisson; the dark adds no variance)
//     sum_normalization[b] = sum w * norm[p]                  (norm = solid angle * polarization * flat *
//     factor) count[b]             = sum w intensity[b] = sum_signal / sum_normalization, sigma[b] =
//     sqrt(sum_variance) / sum_normalization, both 0 where count[b] == 0 (pyFAI's "empty" value).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace xrd::integration {

// pyFAI geometry (PONI file contents). Lengths in metres, angles in radians.
struct Geometry {
  double dist = 0, poni1 = 0, poni2 = 0, rot1 = 0, rot2 = 0, rot3 = 0;
  double wavelength = 0;                    // metres
  double pixel1 = 172e-6, pixel2 = 172e-6;  // slow (y) and fast (x) pixel size, metres
  std::string detector = "Detector";
  // pyFAI's detector orientation (PONI 2.1): 1 top-left, 2 top-right, 3 bottom-right (pyFAI's default, pixel
  // (0, 0) at the origin), 4 bottom-left; geometry.hpp says how each moves the pixels.
  int orientation = 3;
  // The named detector's shape (rows, columns); 0 when the PONI does not say. Frames of another shape are refused.
  size_t detector_height = 0, detector_width = 0;
};

enum class Unit { tth_deg, tth_rad, q_nm, q_A, r_mm };
const char* to_string(Unit u);          // "2th_deg", "2th_rad", "q_nm^-1", "q_A^-1", "r_mm" (pyFAI's names)
Unit parse_unit(const std::string& s);  // throws std::invalid_argument naming the accepted values

enum class Split { none, bbox, full };
const char* to_string(Split s);           // "no", "bbox", "full"
Split parse_split(const std::string& s);  // throws std::invalid_argument naming the accepted values

struct Options {
  int bins = 1000;
  Unit unit = Unit::q_nm;
  Split split = Split::bbox;
  std::optional<double> radial_min, radial_max;  // in `unit`; automatic (pyFAI's rule) when absent
  bool solid_angle = true;
  std::optional<double> polarization;  // factor in [-1, 1]; absent = no correction
  double normalization = 1.0;
};

// The sparse matrix: row b lists (pixel index, fraction of that pixel in bin b). Masked pixels never appear.
// Within a row, pixel indices increase.
struct Csr {
  int bins = 0;
  size_t width = 0, height = 0;  // image shape the matrix was built for
  std::vector<int32_t> row_ptr;  // bins + 1
  std::vector<int32_t> col;      // pixel index (row-major), nnz
  std::vector<float> val;        // weight, nnz
  std::vector<double> radial;    // bin centres in `unit`
  Unit unit = Unit::q_nm;
  Split split = Split::bbox;
  double radial_lo = 0, radial_hi = 0;  // lower edge of the first bin, upper edge of the last, in `unit`
  size_t nnz() const { return col.size(); }
  size_t pixels() const { return width * height; }
};

// Everything an engine needs besides the image: the matrix, and per pixel the normalisation
// (solid angle * polarization * flat * normalization factor) and dark current (empty = none).
struct Setup {
  Csr csr;
  std::vector<float> norm;      // width*height
  std::vector<float> dark;      // width*height or empty
  double build_seconds = 0;     // cost of building csr + norm, reported separately
  double geometry_seconds = 0;  // of which: per-pixel positions and corrections
  double matrix_seconds = 0;    // of which: the CSR matrix itself
  size_t masked_pixels = 0;     // pixels left out of the matrix (mask file, zero/NaN normalisation)
};

// One 1D pattern; engines fill these (capacity reused between frames).
struct Pattern {
  std::vector<double> radial, intensity, sigma, count, sum_signal, sum_normalization;
  void resize(size_t bins);
};

// Builds the matrix and the per-pixel corrections, once per (geometry, mask, shape, options, dark, flat).
// mask: width*height bytes, nonzero = masked, or empty. dark/flat: width*height values or empty (a flat of 0
// or a non-finite one masks the pixel, as in pyFAI). threads: 0 = every core. Throws std::invalid_argument on
// inconsistent sizes or options (bins < 1, a radial range with min >= max, a q unit without a wavelength,
// ...).
Setup build_setup(const Geometry& g, std::span<const uint8_t> mask, size_t width, size_t height,
                  const Options& opt, std::span<const float> dark = {}, std::span<const float> flat = {},
                  int threads = 0);

// The reference engine: plain CSR x image, one thread, double accumulators; the definition of right.
// image.size() must be width*height (throws std::invalid_argument otherwise).
void integrate(const Setup& s, std::span<const int32_t> image, Pattern& out);

// The same sums, rows (bins) in parallel with oneTBB (in the caller's arena): pyFAI's CSR engine, gathering
// the pixels of each bin. Bit-identical to integrate() (each bin sums in the same order).
void integrate_csr_parallel(const Setup& s, std::span<const int32_t> image, Pattern& out);

// The last step every engine shares: from the four sums per bin (out.sum_signal, out.sum_normalization,
// out.count and `sum_variance`) to radial, intensity and sigma.
void finish_pattern(const Csr& csr, std::span<const double> sum_variance, Pattern& out);
void finish_pattern(std::span<const double> radial, std::span<const double> sum_variance, Pattern& out);

}  // namespace xrd::integration
