// Pixel positions in pyFAI's convention (the geometry of a PONI file): per pixel centre and per pixel corner,
// 2theta, chi, q and r, and the per-pixel corrections (solid angle, polarization). Formulas live in
// geometry.cpp.
//
// Conventions (pyFAI): dim1 = slow axis (y, image rows, `height`), dim2 = fast axis (x, columns, `width`);
// pixel (row i, column j) spans [i, i+1] x [j, j+1] in pixel units, its centre at (i + 0.5, j + 0.5); the
// PONI (poni1, poni2) is the point of normal incidence on the detector, in metres from the detector's first
// corner.
//
// Orientation (pyFAI >= 2023.12, PONI 2.1, pyFAI/detectors/_common.py and geometry.calc_pos_zyx): 3 (and 0) is
// the layout above; 2 flips the slow axis, 4 the fast axis, 1 both. A flipped axis counts pixels from the far
// edge (row i of H sits where row H-1-i would), and after the rotations t1 (flipped slow axis) or t2 (flipped fast
// axis) changes sign, so chi is mirrored while 2theta, q and r see only the moved pixel positions.
//
// Radial values come in a unit's "internal" representation, as pyFAI's engines use them: 2theta in radians,
// q in nm^-1, r in metres; internal * unit_scale(unit) is the value in the unit (degrees, A^-1, mm).
#pragma once
#include <cstddef>
#include <span>

#include "kernels/integrate.hpp"

namespace xrd::integration {

double unit_scale(Unit u);           // 180/pi for 2th_deg, 0.1 for q_A^-1, 1000 for r_mm, 1 otherwise
bool unit_needs_wavelength(Unit u);  // the q units

bool flips_rows(int orientation);  // pyFAI orientations 1, 2
bool flips_cols(int orientation);  // pyFAI orientations 1, 4
// Throws std::invalid_argument when the orientation is not 0-4 or a width x height image does not have the named
// detector's shape (g.detector_width/height when nonzero). The array functions below call it.
void check_shape(const Geometry& g, size_t width, size_t height);

// A point in the sample frame: t3 along the beam, t1 vertical (slow axis), t2 horizontal (fast axis), metres.
struct LabPoint {
  double t1, t2, t3;
};

// (p1, p2): a point of the detector plane relative to the PONI, metres. Applies the three rotations.
LabPoint lab_point(const Geometry& g, double p1, double p2);

double tth_of(const LabPoint& t);                                // radians
double chi_of(const LabPoint& t);                                // radians, in (-pi, pi]
double q_of(double tth, double wavelength);                      // nm^-1
double radial_of(Unit u, const LabPoint& t, double wavelength);  // internal representation of `u`

// Everything at one detector point, given in fractional pixel coordinates (d1 slow, d2 fast; a pixel centre
// is at (i + 0.5, j + 0.5)). In double precision throughout: for tools and tests, not the arrays below. An
// orientation that flips an axis needs the image's extent along it (width/height, else the detector's shape).
struct PointPosition {
  double tth, chi, q_nm, r_m;
};
PointPosition position_at(const Geometry& g, double d1, double d2, size_t width = 0, size_t height = 0);

// The offsets of pixel centres from the PONI (metres), computed as pyFAI 0.21 computes them: in float32
// arithmetic (float(pixel) * (i + 0.5f) - float(poni)). The rounding is below 0.1 um; reproducing it keeps
// the pixels that sit on a bin edge in the same bin as pyFAI's.
// height/width are the image's (used when the orientation flips that axis).
float centre_offset1(const Geometry& g, size_t row, size_t height);
float centre_offset2(const Geometry& g, size_t col, size_t width);

// Arrays over a width x height image, row-major, filled in parallel (threads: 0 = every core).
// Radial position of each pixel centre (internal representation of `u`).
void centre_radial(const Geometry& g, size_t width, size_t height, Unit u, std::span<double> out,
                   int threads = 0);
// Radial position and chi of every pixel corner: a (height+1) x (width+1) grid, rounded to float32 as pyFAI's
// corner arrays are. Corner (i, j) is shared by pixels (i-1..i, j-1..j).
void corner_grid(const Geometry& g, size_t width, size_t height, Unit u, std::span<float> radial,
                 std::span<float> chi, int threads = 0);
// Solid angle of each pixel relative to the PONI's: cos(incidence)^3, cos(incidence) = dist / |(p1, p2,
// dist)| (pyFAI 0.21, solidAngleArray(order=3, absolute=False)).
void solid_angle(const Geometry& g, size_t width, size_t height, std::span<float> out, int threads = 0);
// Polarization correction (the image is divided by it): (1 + cos^2(2th) - f cos(2 chi) (1 - cos^2(2th))) / 2.
void polarization(const Geometry& g, size_t width, size_t height, double factor, std::span<float> out,
                  int threads = 0);

}  // namespace xrd::integration
