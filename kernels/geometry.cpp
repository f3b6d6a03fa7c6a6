// Pixel positions and corrections in pyFAI's convention (pyFAI/geometry.py, pyFAI/ext/_geometry.pyx, 0.21).
#include "kernels/geometry.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "kernels/integrate_parallel.hpp"

namespace xrd::integration {

namespace {

constexpr double kPi = std::numbers::pi;

void check_size(std::span<const float> s, size_t n, const char* what) {
  if (s.size() != n) throw std::invalid_argument(std::string(what) + ": output span has the wrong size");
}

// The image's extent along one axis for the orientation's flips: the frames' size, which must equal the named
// detector's when the PONI gives one (pyFAI takes both from the detector).
size_t extent(size_t image, size_t detector, const char* axis) {
  if (image == 0) image = detector;
  if (detector != 0 && image != detector)
    throw std::invalid_argument(std::string("the detector has ") + std::to_string(detector) + " " + axis +
                                ", the image " + std::to_string(image));
  return image;
}

// The rotation of pyFAI (calc_pos_zyx), with its sines and cosines computed once.
struct Rotation {
  double a11, a12, a13, a21, a22, a23, a31, a32, a33;
  double L;
  double sign1 = 1, sign2 = 1;  // pyFAI negates t1 (orientations 1, 2) and t2 (1, 4) after the rotation
  explicit Rotation(const Geometry& g) : L(g.dist) {
    sign1 = flips_rows(g.orientation) ? -1.0 : 1.0;
    sign2 = flips_cols(g.orientation) ? -1.0 : 1.0;
    const double c1 = std::cos(g.rot1), c2 = std::cos(g.rot2), c3 = std::cos(g.rot3);
    const double s1 = std::sin(g.rot1), s2 = std::sin(g.rot2), s3 = std::sin(g.rot3);
    // Detector point (p1, p2, L) -> sample frame (t1, t2, t3): pyFAI's rotation matrix R3.R2.R1 applied to
    // the point, written out as in geometry.py's numpy path:
    //   t1 = p1 c2 c3 + p2 (c3 s1 s2 - c1 s3) - L (c1 c3 s2 + s1 s3)
    //   t2 = p1 c2 s3 + p2 (c1 c3 + s1 s2 s3) - L (-c3 s1 + c1 s2 s3)
    //   t3 = p1 s2    - p2 c2 s1              + L c1 c2
    a11 = c2 * c3, a12 = c3 * s1 * s2 - c1 * s3, a13 = -(c1 * c3 * s2 + s1 * s3);
    a21 = c2 * s3, a22 = c1 * c3 + s1 * s2 * s3, a23 = -(-c3 * s1 + c1 * s2 * s3);
    a31 = s2, a32 = -c2 * s1, a33 = c1 * c2;
  }
  LabPoint operator()(double p1, double p2) const {
    return {sign1 * (a11 * p1 + a12 * p2 + a13 * L), sign2 * (a21 * p1 + a22 * p2 + a23 * L),
            a31 * p1 + a32 * p2 + a33 * L};
  }
};

}  // namespace

double unit_scale(Unit u) {
  switch (u) {
    case Unit::tth_deg:
      return 180.0 / kPi;
    case Unit::tth_rad:
      return 1.0;
    case Unit::q_nm:
      return 1.0;
    case Unit::q_A:
      return 0.1;
    case Unit::r_mm:
      return 1000.0;
  }
  return 1.0;
}

bool flips_rows(int orientation) { return orientation == 1 || orientation == 2; }
bool flips_cols(int orientation) { return orientation == 1 || orientation == 4; }

void check_shape(const Geometry& g, size_t width, size_t height) {
  if (g.orientation < 0 || g.orientation > 4)
    throw std::invalid_argument("detector orientation " + std::to_string(g.orientation) +
                                " is not one of pyFAI's 1-4");
  extent(height, g.detector_height, "rows");
  extent(width, g.detector_width, "columns");
}

bool unit_needs_wavelength(Unit u) { return u == Unit::q_nm || u == Unit::q_A; }

LabPoint lab_point(const Geometry& g, double p1, double p2) { return Rotation(g)(p1, p2); }

// 2theta: the angle between the beam (t3) and the scattered ray: atan2(sqrt(t1^2 + t2^2), t3).
double tth_of(const LabPoint& t) { return std::atan2(std::sqrt(t.t1 * t.t1 + t.t2 * t.t2), t.t3); }
// chi: the azimuth around the beam, atan2(t1, t2) (0 along +x, the fast axis; discontinuity at +-pi).
double chi_of(const LabPoint& t) { return std::atan2(t.t1, t.t2); }
// q = 4 pi sin(2theta / 2) / lambda, in nm^-1 for lambda in metres.
double q_of(double tth, double wavelength) { return 4.0e-9 * kPi * std::sin(tth / 2.0) / wavelength; }

// Internal representation of each unit (pyFAI's "scale=False"): 2theta in rad, q in nm^-1, r = sqrt(t1^2 +
// t2^2) (distance to the beam in the sample frame) in metres.
double radial_of(Unit u, const LabPoint& t, double wavelength) {
  switch (u) {
    case Unit::tth_deg:
    case Unit::tth_rad:
      return tth_of(t);
    case Unit::q_nm:
    case Unit::q_A:
      return q_of(tth_of(t), wavelength);
    case Unit::r_mm:
      return std::sqrt(t.t1 * t.t1 + t.t2 * t.t2);
  }
  return 0;
}

// pyFAI's orientation reads a flipped axis from the far edge: fractional coordinate d becomes (extent - d)
// (_reorder_indexes_from_orientation, with its half-pixel centre offset folded in).
PointPosition position_at(const Geometry& g, double d1, double d2, size_t width, size_t height) {
  if (flips_rows(g.orientation)) {
    height = extent(height, g.detector_height, "rows");
    if (height == 0) throw std::invalid_argument("position_at: orientation flips the rows; the height is needed");
    d1 = static_cast<double>(height) - d1;
  }
  if (flips_cols(g.orientation)) {
    width = extent(width, g.detector_width, "columns");
    if (width == 0) throw std::invalid_argument("position_at: orientation flips the columns; the width is needed");
    d2 = static_cast<double>(width) - d2;
  }
  const LabPoint t = lab_point(g, d1 * g.pixel1 - g.poni1, d2 * g.pixel2 - g.poni2);
  const double tth = tth_of(t);
  return {tth, chi_of(t), g.wavelength > 0 ? q_of(tth, g.wavelength) : 0.0,
          std::sqrt(t.t1 * t.t1 + t.t2 * t.t2)};
}

// pyFAI 0.21 builds centre arrays with numpy.fromfunction(..., dtype=float32): the pixel index, the
// half-pixel offset, the product with the pixel size and the difference with the PONI are float32 operations.
// A flipped axis counts pixels from the far edge (pyFAI's _calc_pixel_index_from_orientation: arange reversed).
float centre_offset1(const Geometry& g, size_t row, size_t height) {
  const size_t index = flips_rows(g.orientation) ? height - 1 - row : row;
  const float c = static_cast<float>(index) + 0.5f;
  const float p = static_cast<float>(g.pixel1) * c;
  return p - static_cast<float>(g.poni1);
}
float centre_offset2(const Geometry& g, size_t col, size_t width) {
  const size_t index = flips_cols(g.orientation) ? width - 1 - col : col;
  const float c = static_cast<float>(index) + 0.5f;
  const float p = static_cast<float>(g.pixel2) * c;
  return p - static_cast<float>(g.poni2);
}

void centre_radial(const Geometry& g, size_t width, size_t height, Unit u, std::span<double> out,
                   int threads) {
  if (out.size() != width * height)
    throw std::invalid_argument("centre_radial: output span has the wrong size");
  check_shape(g, width, height);
  const Rotation rot(g);
  for_rows(height, threads, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      const double p1 = centre_offset1(g, i, height);
      double* row = out.data() + i * width;
      for (size_t j = 0; j < width; ++j)
        row[j] = radial_of(u, rot(p1, centre_offset2(g, j, width)), g.wavelength);
    }
  });
}

// Corners, as pyFAI's corner_array: positions in double (index * pixel - poni), radial and chi in double,
// stored as float32.
void corner_grid(const Geometry& g, size_t width, size_t height, Unit u, std::span<float> radial,
                 std::span<float> chi, int threads) {
  const size_t w1 = width + 1, h1 = height + 1;
  check_size(radial, w1 * h1, "corner_grid");
  check_size(chi, w1 * h1, "corner_grid");
  check_shape(g, width, height);
  const Rotation rot(g);
  const bool flip1 = flips_rows(g.orientation), flip2 = flips_cols(g.orientation);
  for_rows(h1, threads, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      const double p1 = static_cast<double>(flip1 ? height - i : i) * g.pixel1 - g.poni1;
      for (size_t j = 0; j < w1; ++j) {
        const LabPoint t = rot(p1, static_cast<double>(flip2 ? width - j : j) * g.pixel2 - g.poni2);
        radial[i * w1 + j] = static_cast<float>(radial_of(u, t, g.wavelength));
        chi[i * w1 + j] = static_cast<float>(chi_of(t));
      }
    }
  });
}

// Solid angle relative to the PONI's (pyFAI diffSolidAngle): Omega(P)/Omega(PONI) = cos(a)^3 with
// cos(a) = dist / sqrt(dist^2 + p1^2 + p2^2), (p1, p2) the pixel centre relative to the PONI, in the detector
// plane (so the rotations do not enter).
void solid_angle(const Geometry& g, size_t width, size_t height, std::span<float> out, int threads) {
  check_size(out, width * height, "solid_angle");
  check_shape(g, width, height);
  const double d2 = g.dist * g.dist;
  for_rows(height, threads, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      const double p1 = centre_offset1(g, i, height);
      for (size_t j = 0; j < width; ++j) {
        const double p2 = centre_offset2(g, j, width);
        const double cosa = g.dist / std::sqrt(d2 + (p1 * p1 + p2 * p2));
        out[i * width + j] = static_cast<float>(cosa * cosa * cosa);
      }
    }
  });
}

// Polarization (pyFAI Geometry.polarization, axis_offset 0): P = (1 + cos^2(2th) - f cos(2 chi) (1 -
// cos^2(2th)))/2; f = 0 is unpolarised, f = 1 fully polarised horizontally (along x), f = -1 vertically.
void polarization(const Geometry& g, size_t width, size_t height, double factor, std::span<float> out,
                  int threads) {
  check_size(out, width * height, "polarization");
  check_shape(g, width, height);
  const Rotation rot(g);
  for_rows(height, threads, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      const double p1 = centre_offset1(g, i, height);
      for (size_t j = 0; j < width; ++j) {
        const LabPoint t = rot(p1, centre_offset2(g, j, width));
        const double c = std::cos(tth_of(t));
        const double cos2 = c * c;
        out[i * width + j] =
            static_cast<float>(0.5 * (1.0 + cos2 - factor * std::cos(2.0 * chi_of(t)) * (1.0 - cos2)));
      }
    }
  });
}

}  // namespace xrd::integration
