// Azimuthal integration: one geometry -> one CSR matrix (bins x pixels) -> several engines (CPU here, OpenCL in
// kernels/ocl_*). The types every engine and strategy share live here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace xrd::integ {

// pyFAI geometry (PONI file contents). Lengths in metres, angles in radians.
struct Geometry {
  double dist = 0, poni1 = 0, poni2 = 0, rot1 = 0, rot2 = 0, rot3 = 0;
  double wavelength = 0;          // metres
  double pixel1 = 172e-6, pixel2 = 172e-6;  // slow (y) and fast (x) pixel size, metres
  std::string detector = "Detector";
};

enum class Unit { tth_deg, tth_rad, q_nm, q_A, r_mm };
const char* to_string(Unit u);    // "2th_deg", "2th_rad", "q_nm^-1", "q_A^-1", "r_mm" (pyFAI's names)
Unit parse_unit(const std::string& s);  // throws std::invalid_argument naming the accepted values

enum class Split { none, bbox, full };
const char* to_string(Split s);   // "no", "bbox", "full"
Split parse_split(const std::string& s);

struct Options {
  int bins = 1000;
  Unit unit = Unit::q_nm;
  Split split = Split::bbox;
  std::optional<double> radial_min, radial_max;  // in `unit`; automatic (pyFAI's rule) when absent
  bool solid_angle = true;
  std::optional<double> polarization;            // factor in [-1, 1]; absent = no correction
  double normalization = 1.0;
};

// The sparse matrix: row b lists (pixel index, fraction of that pixel in bin b). Masked pixels never appear.
struct Csr {
  int bins = 0;
  size_t width = 0, height = 0;      // image shape the matrix was built for
  std::vector<int32_t> row_ptr;      // bins + 1
  std::vector<int32_t> col;          // pixel index (row-major), nnz
  std::vector<float> val;            // weight, nnz
  std::vector<double> radial;        // bin centres in `unit`
  Unit unit = Unit::q_nm;
  Split split = Split::bbox;
  size_t nnz() const { return col.size(); }
};

// Everything an engine needs besides the image: the matrix, and per pixel the normalisation
// (solid angle * polarization * flat * normalization factor) and dark current (empty = none).
struct Setup {
  Csr csr;
  std::vector<float> norm;   // width*height
  std::vector<float> dark;   // width*height or empty
  double build_seconds = 0;  // cost of building csr + norm, reported separately
};

// One 1D pattern; engines fill these (capacity reused between frames).
struct Pattern {
  std::vector<double> radial, intensity, sigma, count, sum_signal, sum_normalization;
  void resize(size_t bins);
};

}  // namespace xrd::integ
