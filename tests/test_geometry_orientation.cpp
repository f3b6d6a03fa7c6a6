// pyFAI's detector orientations 1-4 (pyFAI >= 2023.12: Detector._calc_pixel_index_from_orientation and
// Geometry.calc_pos_zyx), checked against hand-computed positions on a 4 x 3 detector, and through a whole
// integration: orientation 2 of an image equals orientation 3 of the image flipped upside down.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels/geometry.hpp"
#include "kernels/integrate.hpp"

using namespace xrd::integration;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {
Geometry small(int orientation) {
  Geometry g;
  g.dist = 0.1;
  g.pixel1 = 1e-4;
  g.pixel2 = 2e-4;
  g.wavelength = 1e-10;
  g.orientation = orientation;
  return g;
}
}  // namespace

TEST_CASE("orientation: pixel (0, 0) of a 4 x 3 (rows x columns) detector, by hand, for each orientation") {
  // No rotation, PONI at the detector's origin. Orientation 3: pixel (0, 0)'s centre at (0.5 p1, 0.5 p2).
  // A flipped slow axis puts row 0 at index H-1 = 3 (centre 3.5 p1) and negates t1; a flipped fast axis puts
  // column 0 at W-1 = 2 (centre 2.5 p2) and negates t2.
  const size_t W = 3, H = 4;
  struct Case {
    int orientation;
    double t1, t2;  // metres, after pyFAI's sign change
  };
  for (const Case& c : {Case{3, 0.5e-4, 1.0e-4}, Case{0, 0.5e-4, 1.0e-4}, Case{1, -3.5e-4, -5.0e-4},
                        Case{2, -3.5e-4, 1.0e-4}, Case{4, 0.5e-4, -5.0e-4}}) {
    INFO("orientation " << c.orientation);
    const Geometry g = small(c.orientation);
    const auto p = position_at(g, 0.5, 0.5, W, H);
    const double tth = std::atan2(std::hypot(c.t1, c.t2), 0.1);
    CHECK_THAT(p.tth, WithinRel(tth, 1e-12));
    CHECK_THAT(p.chi, WithinRel(std::atan2(c.t1, c.t2), 1e-12));
    CHECK_THAT(p.r_m, WithinRel(std::hypot(c.t1, c.t2), 1e-12));
    // The arrays (float32 centre offsets as pyFAI 0.21 computes them) agree to float rounding.
    std::vector<double> tth_arr(W * H);
    centre_radial(g, W, H, Unit::tth_rad, tth_arr);
    CHECK_THAT(tth_arr[0], WithinRel(tth, 1e-6));
    CHECK_THAT(chi_of(lab_point(g, centre_offset1(g, 0, H), centre_offset2(g, 0, W))),
               WithinRel(std::atan2(c.t1, c.t2), 1e-6));
    // Corner (0, 0) of the grid: index H (flipped) or 0 along each axis, no half-pixel offset.
    std::vector<float> rad((W + 1) * (H + 1)), chi((W + 1) * (H + 1));
    corner_grid(g, W, H, Unit::r_mm, rad, chi);
    const double c1 = (c.orientation == 1 || c.orientation == 2) ? -4e-4 : 0.0;
    const double c2 = (c.orientation == 1 || c.orientation == 4) ? -6e-4 : 0.0;
    CHECK_THAT(double(rad[0]), WithinAbs(std::hypot(c1, c2), 1e-9));
    if (c1 != 0 || c2 != 0) CHECK_THAT(double(chi[0]), WithinAbs(std::atan2(c1, c2), 1e-6));
  }
}

TEST_CASE("orientation: with rotations, the flip moves the pixel and the sign change follows the rotation") {
  Geometry g = small(2);
  g.rot1 = 0.01, g.rot2 = -0.02, g.rot3 = 0.03, g.poni1 = 1e-4, g.poni2 = 3e-4;
  Geometry ref = g;
  ref.orientation = 3;
  const size_t W = 3, H = 4;
  for (double d1 : {0.5, 1.25, 3.5})
    for (double d2 : {0.5, 2.0}) {
      // pyFAI: orientation 2 reads row d1 at H - d1, then negates t1 after the rotation.
      const LabPoint t = lab_point(ref, (H - d1) * g.pixel1 - g.poni1, d2 * g.pixel2 - g.poni2);
      const auto p = position_at(g, d1, d2, W, H);
      CHECK_THAT(p.tth, WithinRel(tth_of(t), 1e-12));
      CHECK_THAT(p.chi, WithinRel(std::atan2(-t.t1, t.t2), 1e-12));
    }
}

TEST_CASE("orientation: integrating an image with orientation 2 equals orientation 3 of the image upside down") {
  const size_t W = 40, H = 30;
  Geometry g2;
  g2.dist = 0.05, g2.poni1 = 1.1e-3, g2.poni2 = 2.3e-3, g2.rot1 = 0.02, g2.rot2 = -0.01, g2.pixel1 = 1e-4,
  g2.pixel2 = 1e-4, g2.wavelength = 1e-10;
  g2.orientation = 2;
  Geometry g3 = g2;
  g3.orientation = 3;
  std::vector<int32_t> img(W * H), flipped(W * H);
  for (size_t i = 0; i < H; ++i)
    for (size_t j = 0; j < W; ++j) {
      img[i * W + j] = static_cast<int32_t>((i * 37 + j * 11) % 101);
      flipped[(H - 1 - i) * W + j] = img[i * W + j];
    }
  for (Split split : {Split::none, Split::bbox, Split::full}) {
    INFO("split " << to_string(split));
    Options opt;
    opt.bins = 50;
    opt.split = split;
    opt.polarization = 0.9;
    const Setup s2 = build_setup(g2, {}, W, H, opt, {}, {}, 1);
    const Setup s3 = build_setup(g3, {}, W, H, opt, {}, {}, 1);
    Pattern a, b;
    integrate(s2, img, a);
    integrate(s3, flipped, b);
    REQUIRE(a.radial.size() == b.radial.size());
    // Full splitting measures each pixel's polygon in (radial, chi) with chi mirrored: the pixels across the
    // chi = +-pi cut near the beam are split a little differently (measured: < 1e-4 relative).
    const double tol = split == Split::full ? 5e-4 : 1e-9;
    for (size_t k = 0; k < a.radial.size(); ++k) {
      CHECK_THAT(a.radial[k], WithinRel(b.radial[k], 1e-12));
      CHECK_THAT(a.intensity[k], WithinRel(b.intensity[k], tol) || WithinAbs(b.intensity[k], 1e-12));
      CHECK_THAT(a.count[k], WithinRel(b.count[k], tol) || WithinAbs(b.count[k], 1e-12));
    }
    // And it is not the same as ignoring the orientation (the test can fail).
    Pattern c;
    integrate(s3, img, c);
    double diff = 0;
    for (size_t k = 0; k < a.radial.size(); ++k) diff += std::abs(a.intensity[k] - c.intensity[k]);
    CHECK(diff > 1.0);
  }
}

TEST_CASE("orientation: frames of another shape than the named detector's are refused") {
  Geometry g = small(3);
  g.detector_height = 4, g.detector_width = 3;
  std::vector<double> out(5 * 4);
  CHECK_THROWS_WITH(centre_radial(g, 5, 4, Unit::tth_rad, out),
                    Catch::Contains("the detector has 3 columns, the image 5"));
  g.orientation = 7;
  std::vector<double> ok(3 * 4);
  CHECK_THROWS_WITH(centre_radial(g, 3, 4, Unit::tth_rad, ok), Catch::Contains("orientation 7"));
}
