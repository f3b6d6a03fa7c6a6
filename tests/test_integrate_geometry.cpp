// Pixel positions and corrections: analytic cases, and pyFAI 0.21.3's own values for the real LaB6 geometry
// (2theta, chi, q, r, solid angle, polarization, corner and delta arrays, computed with pyFAI and written
// here).
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <vector>

#include "datasets/poni.hpp"
#include "kernels/csr.hpp"
#include "kernels/geometry.hpp"
#include "tests/test_support.hpp"

using namespace xrd::integration;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {
constexpr double kPi = std::numbers::pi;
constexpr size_t kW = 1475, kH = 1679;

Geometry lab6() {
  return xrd::poni::read(xrd::test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.poni");
}

Geometry simple() {
  Geometry g;
  g.dist = 0.1;
  g.poni1 = 0;
  g.poni2 = 0;
  g.pixel1 = g.pixel2 = 1e-3;
  g.wavelength = 1e-10;
  return g;
}
}  // namespace

TEST_CASE("geometry: analytic positions without rotations") {
  const Geometry g = simple();
  auto at_poni = position_at(g, 0, 0);
  CHECK(at_poni.tth == 0.0);
  CHECK(at_poni.r_m == 0.0);
  // 0.1 m along the slow axis (y, up) at 0.1 m: 2theta 45 degrees, chi +90 degrees.
  auto up = position_at(g, 100, 0);
  CHECK_THAT(up.tth, WithinRel(kPi / 4, 1e-14));
  CHECK_THAT(up.chi, WithinRel(kPi / 2, 1e-14));
  CHECK_THAT(up.r_m, WithinRel(0.1, 1e-14));
  CHECK_THAT(up.q_nm, WithinRel(4e-9 * kPi * std::sin(kPi / 8) / 1e-10, 1e-14));
  // Along the fast axis (x): chi 0.
  auto right = position_at(g, 0, 100);
  CHECK_THAT(right.chi, WithinAbs(0.0, 1e-15));
  CHECK_THAT(right.tth, WithinRel(kPi / 4, 1e-14));
  CHECK(unit_scale(Unit::tth_deg) == 180.0 / kPi);
  CHECK(unit_scale(Unit::q_A) == 0.1);
  CHECK(unit_scale(Unit::r_mm) == 1000.0);
}

TEST_CASE("geometry: rot1 tilts the detector about the slow axis, so the beam meets it off the PONI") {
  Geometry g = simple();
  g.rot1 = 0.1;
  // With rot1 alone the direct beam (2theta = 0) hits the detector at p2 = -dist * tan(rot1) (pyFAI
  // convention).
  const double p2 = -g.dist * std::tan(g.rot1);
  const auto beam = position_at(g, 0, p2 / g.pixel2);
  CHECK_THAT(beam.tth, WithinAbs(0.0, 1e-12));
  // Solid angle is relative to the PONI and ignores rotations (pyFAI's cos(incidence)^3 in the detector
  // plane).
  std::vector<float> sa(4);
  Geometry h = simple();
  h.poni1 = h.poni2 = 1e-3;  // the PONI at the corner shared by the 4 pixels of a 2 x 2 image
  solid_angle(h, 2, 2, sa);
  const double c = 0.1 / std::sqrt(0.01 + 2 * 0.5e-3 * 0.5e-3);
  for (float v : sa) CHECK_THAT(v, WithinRel(c * c * c, 1e-6));
}

TEST_CASE("geometry: polarization formula at chi = 0 and 90 degrees") {
  Geometry g = simple();
  g.poni1 = 0.1;  // pixel centres far along -y and the PONI in the image
  std::vector<float> pol(1);
  // One pixel whose centre is at p1 = 0.5e-3 - 0.1, p2 = 0.5e-3: chi ~ -90 degrees, 2theta ~ 45 degrees.
  polarization(g, 1, 1, 1.0, pol);
  const auto pos = position_at(g, 0.5, 0.5);
  const double c2 = std::cos(pos.tth) * std::cos(pos.tth);
  CHECK_THAT(pol[0], WithinRel(0.5 * (1 + c2 - std::cos(2 * pos.chi) * (1 - c2)), 1e-6));
  CHECK(pol[0] > 0.95);  // horizontal polarization: little loss in the vertical plane
  polarization(g, 1, 1, 0.0, pol);
  CHECK_THAT(pol[0], WithinRel(0.5 * (1 + c2), 1e-6));
}

TEST_CASE("geometry: pixel arrays equal pyFAI 0.21.3's for the LaB6 geometry") {
  const Geometry g = lab6();
  struct Ref {
    size_t i, j;
    double tth, chi, q, r, sa;
    float pol;
    double dq;
    float corner_q, corner_chi;
  };
  // ai.twoThetaArray, chiArray, qArray, rArray, solidAngleArray, polarization(0.99), delta and corner arrays
  // in q_nm^-1 (scale=False), at (row i, column j).
  const Ref refs[] = {
      {0, 0, 0.61691241561986143, -1.9798728650246966, 54.941907969803786, 0.31116933655558959,
       0.54388627800625011, 0.945904016f, 0.014799205155348716, 54.9567032f, -1.98001647f},
      {1660, 720, 0.00016887357999743351, 0.34351549214616162, 0.015280963987329057, 7.414415964446708e-05,
       0.99999726598411132, 1.0f, 0.024145053565285155, 0.0130109172f, -1.83008492f},
      {100, 1400, 0.58841614506943807, -1.1594829990272877, 52.479554622437114, 0.292708132366649,
       0.57706263566374361, 0.949706197f, 0.01547762658750429, 52.4856339f, -1.15986967f},
      {1678, 1474, 0.28746355264480167, 0.024043838656750281, 25.922415321765879, 0.12979535192928734,
       0.8821079993087847, 0.920063913f, 0.016513282360097747, 25.9059048f, 0.0233968999f},
      {800, 300, 0.3587358396372568, -2.0247883690543422, 32.287361676863576, 0.16456441680697709,
       0.82185495579441115, 0.975912988f, 0.02046256797685686, 32.3078194f, -2.02502871f},
  };
  std::vector<double> tth(kW * kH), q(kW * kH), r(kW * kH);
  centre_radial(g, kW, kH, Unit::tth_rad, tth);
  centre_radial(g, kW, kH, Unit::q_nm, q);
  centre_radial(g, kW, kH, Unit::r_mm, r);
  std::vector<float> sa(kW * kH), pol(kW * kH);
  solid_angle(g, kW, kH, sa);
  polarization(g, kW, kH, 0.99, pol);
  std::vector<float> cr((kW + 1) * (kH + 1)), cchi((kW + 1) * (kH + 1));
  corner_grid(g, kW, kH, Unit::q_nm, cr, cchi);
  const PixelPositions bbox = pixel_positions(g, kW, kH, Unit::q_nm, Split::bbox);
  for (const Ref& x : refs) {
    INFO("pixel row " << x.i << " column " << x.j);
    const size_t p = x.i * kW + x.j;
    // The centres use pyFAI's float32 pixel offsets, so they agree to double rounding.
    CHECK_THAT(tth[p], WithinRel(x.tth, 1e-12));
    CHECK_THAT(q[p], WithinRel(x.q, 1e-12));
    CHECK_THAT(r[p], WithinRel(x.r, 1e-12));
    CHECK_THAT(chi_of(lab_point(g, centre_offset1(g, x.i, kH), centre_offset2(g, x.j, kW))), WithinRel(x.chi, 1e-12));
    CHECK_THAT(sa[p], WithinRel(x.sa, 1e-7));
    CHECK_THAT(double(pol[p]), WithinRel(double(x.pol), 1e-7));
    CHECK(cr[x.i * (kW + 1) + x.j] == x.corner_q);
    CHECK(cchi[x.i * (kW + 1) + x.j] == x.corner_chi);
    CHECK_THAT(bbox.delta[p], WithinRel(x.dq, 1e-9));
  }
}

TEST_CASE("geometry: position_at equals pyFAI's tth/chi/qFunction/rFunction at fractional pixel positions") {
  const Geometry g = lab6();
  struct Ref {
    double d1, d2, tth, chi, q, r;
  };
  const Ref refs[] = {
      {0.0, 0.0, 0.61708402534498463, -1.9800164531401816, 54.956703423628198, 0.31128245551247952},
      {1660.25, 720.75, 0.00026020718575080936, -0.15839385998978961, 0.023545522208210684,
       0.00011424427868471415},
      {12.5, 1000.125, 0.58014373717416634, -1.402471929887557, 51.762721104437581, 0.2874941677932249},
  };
  for (const Ref& x : refs) {
    const auto p = position_at(g, x.d1, x.d2);
    CHECK_THAT(p.tth, WithinRel(x.tth, 1e-11));
    CHECK_THAT(p.chi, WithinRel(x.chi, 1e-11));
    CHECK_THAT(p.q_nm, WithinRel(x.q, 1e-11));
    CHECK_THAT(p.r_m, WithinRel(x.r, 1e-11));
  }
}

TEST_CASE("geometry: the q units need a wavelength") {
  Geometry g = simple();
  g.wavelength = 0;
  CHECK_THROWS_AS(pixel_positions(g, 4, 4, Unit::q_nm, Split::none), std::invalid_argument);
  CHECK_NOTHROW(pixel_positions(g, 4, 4, Unit::tth_deg, Split::none));
}
