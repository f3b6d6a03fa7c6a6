// The matrix build: pyFAI's range rule, splitting weights, determinism, the CSC transpose.
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/csr.hpp"
#include "kernels/geometry.hpp"
#include "kernels/integrate.hpp"
#include "tests/test_integrate_fixture.hpp"

using namespace xrd::integration;

namespace {

using xrd::test::small_geometry;
constexpr size_t kW = xrd::test::kSmallW, kH = xrd::test::kSmallH;

std::vector<double> pixel_weight_sums(const Csr& csr) {
  std::vector<double> s(csr.pixels(), 0.0);
  for (size_t k = 0; k < csr.nnz(); ++k) s[csr.col[k]] += csr.val[k];
  return s;
}

}  // namespace

TEST_CASE("csr: with the automatic range every unmasked pixel is in the matrix with total weight 1") {
  const Geometry g = small_geometry();
  std::vector<uint8_t> mask(kW * kH, 0);
  for (size_t p = 0; p < mask.size(); p += 7) mask[p] = 1;
  for (Split split : {Split::none, Split::bbox, Split::full}) {
    for (Unit unit : {Unit::tth_deg, Unit::q_nm, Unit::r_mm}) {
      INFO(to_string(split) << " " << to_string(unit));
      const auto pos = pixel_positions(g, kW, kH, unit, split);
      const auto rg = radial_range(pos, mask, 50, std::nullopt, std::nullopt);
      const Csr csr = build_csr(pos, mask, rg);
      REQUIRE(csr.row_ptr.size() == 51);
      const auto sums = pixel_weight_sums(csr);
      for (size_t p = 0; p < sums.size(); ++p) {
        if (mask[p])
          REQUIRE(sums[p] == 0.0);
        else
          REQUIRE(sums[p] == Approx(1.0).epsilon(1e-6));
      }
      for (int b = 0; b < csr.bins; ++b)
        for (int32_t k = csr.row_ptr[b] + 1; k < csr.row_ptr[b + 1]; ++k)
          REQUIRE(csr.col[k - 1] < csr.col[k]);
      for (float w : csr.val) REQUIRE((w > 0 && w <= 1.0f));
    }
  }
}

TEST_CASE(
    "csr: the automatic range is pyFAI's (unmasked pixels, clipped at 0, upper bound nudged by EPS32)") {
  const Geometry g = small_geometry();
  const auto pos = pixel_positions(g, kW, kH, Unit::tth_rad, Split::none);
  const double mx = *std::max_element(pos.centre.begin(), pos.centre.end());
  const double mn = *std::min_element(pos.centre.begin(), pos.centre.end());
  auto rg = radial_range(pos, {}, 10, std::nullopt, std::nullopt);
  CHECK(rg.min == mn);
  CHECK(rg.max_in == mx);
  CHECK(rg.max == mx * (1.0 + 1.1920928955078125e-07));
  // Masking the pixel at the maximum moves the range; the pixel at the top still falls in the last bin.
  const size_t pmax = std::max_element(pos.centre.begin(), pos.centre.end()) - pos.centre.begin();
  std::vector<uint8_t> mask(kW * kH, 0);
  mask[pmax] = 1;
  auto rg2 = radial_range(pos, mask, 10, std::nullopt, std::nullopt);
  CHECK(rg2.max_in < mx);
  const Csr csr = build_csr(pos, {}, rg);
  CHECK(csr.nnz() == kW * kH);
  // bbox: centre -/+ delta, clipped at 0 (the beam is on the detector, so some pixel reaches below 0).
  const auto bb = pixel_positions(g, kW, kH, Unit::tth_rad, Split::bbox);
  CHECK(radial_range(bb, {}, 10, std::nullopt, std::nullopt).min == 0.0);
  // A given range replaces the automatic one (its maximum nudged as well, as pyFAI does for CSR engines).
  auto given = radial_range(pos, {}, 10, 0.1, 0.5);
  CHECK(given.min == 0.1);
  CHECK(given.max_in == 0.5);
  CHECK(given.delta() == Approx(0.04).epsilon(1e-6));
  CHECK_THROWS_AS(radial_range(pos, {}, 10, 0.5, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(radial_range(pos, {}, 0, std::nullopt, std::nullopt), std::invalid_argument);
  std::vector<uint8_t> all(kW * kH, 1);
  CHECK_THROWS_AS(radial_range(pos, all, 10, std::nullopt, std::nullopt), std::invalid_argument);
}

TEST_CASE("csr: bbox weights follow pyFAI's rule on a hand-made pixel") {
  // One pixel, centre 1.3, delta 0.6 in bin units of width 1 from 0: [0.7, 1.9] -> bins 0 and 1 with
  // (1 - 0.7) / 1.2 = 0.25 and (1.9 - 1) / 1.2 = 0.75.
  PixelPositions pos;
  pos.width = 1;
  pos.height = 1;
  pos.split = Split::bbox;
  pos.centre = {1.3};
  pos.delta = {0.6};
  RadialRange rg;
  rg.bins = 3;
  rg.min = 0;
  rg.max_in = rg.max = 3;
  const Csr csr = build_csr(pos, {}, rg);
  REQUIRE(csr.nnz() == 2);
  CHECK(csr.row_ptr == std::vector<int32_t>{0, 1, 2, 2});
  CHECK(csr.val[0] == Approx(0.25));
  CHECK(csr.val[1] == Approx(0.75));
  // Across three bins: [0.5, 2.5] -> 0.25, 0.5, 0.25.
  pos.centre = {1.5};
  pos.delta = {1.0};
  const Csr c3 = build_csr(pos, {}, rg);
  REQUIRE(c3.nnz() == 3);
  CHECK(c3.val[0] == Approx(0.25));
  CHECK(c3.val[1] == Approx(0.5));
  CHECK(c3.val[2] == Approx(0.25));
}

TEST_CASE("csr: full splitting gives a pixel's area fractions per radial strip") {
  // One pixel whose corners are at radial 0.5 .. 1.5 (bin units) and a square in chi: half in each bin.
  PixelPositions pos;
  pos.width = 1;
  pos.height = 1;
  pos.split = Split::full;
  // Corner grid 2 x 2: (0,0) (0,1) / (1,0) (1,1); radial along the slow axis, chi along the fast one.
  pos.corner_radial = {0.5f, 0.5f, 1.5f, 1.5f};
  pos.corner_chi = {0.0f, 0.1f, 0.0f, 0.1f};
  RadialRange rg;
  rg.bins = 2;
  rg.min = 0;
  rg.max_in = rg.max = 2;
  Csr csr = build_csr(pos, {}, rg);
  REQUIRE(csr.nnz() == 2);
  CHECK(csr.val[0] == Approx(0.5));
  CHECK(csr.val[1] == Approx(0.5));
  // A triangle-like skew: corners 0.2, 0.2, 1.8, 0.6 -> not symmetric; weights still sum to 1.
  pos.corner_radial = {0.2f, 0.2f, 1.8f, 0.6f};
  csr = build_csr(pos, {}, rg);
  REQUIRE(csr.nnz() == 2);
  CHECK(csr.val[0] + csr.val[1] == Approx(1.0));
  CHECK(csr.val[0] > csr.val[1]);
  // A pixel on the chi discontinuity (corners at +pi and -pi) stays whole instead of spanning 2 pi.
  pos.corner_radial = {0.5f, 0.5f, 1.5f, 1.5f};
  pos.corner_chi = {3.1f, -3.1f, 3.1f, -3.1f};
  csr = build_csr(pos, {}, rg);
  REQUIRE(csr.nnz() == 2);
  CHECK(csr.val[0] == Approx(0.5));
}

TEST_CASE("csr: the build does not depend on the number of threads, and to_csc is its exact transpose") {
  const Geometry g = small_geometry();
  for (Split split : {Split::bbox, Split::full}) {
    const auto pos = pixel_positions(g, kW, kH, Unit::q_nm, split, 1);
    const auto rg = radial_range(pos, {}, 64, std::nullopt, std::nullopt, 1);
    const Csr a = build_csr(pos, {}, rg, 1);
    const Csr b = build_csr(pos, {}, rg, 3);
    CHECK(a.row_ptr == b.row_ptr);
    CHECK(a.col == b.col);
    CHECK(a.val == b.val);
    const Csc c = to_csc(a, 2);
    REQUIRE(c.nnz() == a.nnz());
    std::vector<std::tuple<int, int, float>> from_csr, from_csc;
    for (int r = 0; r < a.bins; ++r)
      for (int32_t k = a.row_ptr[r]; k < a.row_ptr[r + 1]; ++k) from_csr.emplace_back(a.col[k], r, a.val[k]);
    for (size_t p = 0; p < c.pixels; ++p)
      for (int32_t k = c.col_ptr[p]; k < c.col_ptr[p + 1]; ++k) {
        if (k > c.col_ptr[p]) REQUIRE(c.row[k - 1] < c.row[k]);
        from_csc.emplace_back(static_cast<int>(p), c.row[k], c.val[k]);
      }
    std::sort(from_csr.begin(), from_csr.end());
    CHECK(from_csr == from_csc);
  }
}

TEST_CASE("build_setup: options are checked, the matrix leaves out masked and zero-flat pixels") {
  const Geometry g = small_geometry();
  Options o;
  o.bins = 40;
  o.unit = Unit::tth_deg;
  std::vector<uint8_t> mask(kW * kH, 0);
  mask[5] = 1;
  std::vector<float> flat(kW * kH, 2.0f);
  flat[10] = 0.0f;
  flat[11] = NAN;
  const Setup s = build_setup(g, mask, kW, kH, o, {}, flat);
  CHECK(s.masked_pixels == 3);
  CHECK(s.csr.unit == Unit::tth_deg);
  CHECK(s.csr.radial.size() == 40);
  CHECK(s.csr.radial_lo == Approx(0.0).margin(1e-12));
  CHECK(s.csr.radial[0] == Approx(s.csr.radial_lo + 0.5 * (s.csr.radial_hi - s.csr.radial_lo) / 40));
  for (int32_t p : s.csr.col) CHECK((p != 5 && p != 10 && p != 11));
  CHECK(s.norm[0] == Approx(2.0f * [&] {
          std::vector<float> sa(kW * kH);
          solid_angle(g, kW, kH, sa);
          return sa[0];
        }()));
  Options bad = o;
  bad.bins = 0;
  CHECK_THROWS_AS(build_setup(g, mask, kW, kH, bad), std::invalid_argument);
  bad = o;
  bad.polarization = 1.5;
  CHECK_THROWS_AS(build_setup(g, mask, kW, kH, bad), std::invalid_argument);
  bad = o;
  bad.radial_min = 10, bad.radial_max = 5;
  CHECK_THROWS_AS(build_setup(g, mask, kW, kH, bad), std::invalid_argument);
  CHECK_THROWS_AS(build_setup(g, std::vector<uint8_t>(3), kW, kH, o), std::invalid_argument);
  CHECK_THROWS_AS(build_setup(g, mask, kW, kH, o, std::vector<float>(3)), std::invalid_argument);
  CHECK_THROWS_AS(parse_unit("2th"), std::invalid_argument);
  CHECK_THROWS_AS(parse_split("pseudo"), std::invalid_argument);
  CHECK(parse_unit("q_A^-1") == Unit::q_A);
  CHECK(parse_split("no") == Split::none);
}
