// median() and mad() on vectors whose answers are known by hand (odd, even, one value, empty, NaN).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "harness/stats.hpp"
#include "base/error.hpp"

using namespace xrd::harness;

TEST_CASE("median of odd and even sizes", "[harness][stats]") {
  CHECK(median({3.0, 1.0, 2.0}) == 2.0);
  CHECK(median({5.0}) == 5.0);
  CHECK(median({4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(median({10.0, -10.0}) == 0.0);
  CHECK(median({1.0, 1.0, 1.0, 7.0}) == 1.0);
  // The paper's kind of input: five runs in frames/s.
  CHECK(median({190.0, 188.0, 193.1, 191.0, 187.5}) == 190.0);
  // Input order does not matter.
  CHECK(median({9, 7, 5, 3, 1, 2, 4, 6, 8}) == 5.0);
}

TEST_CASE("MAD is the unscaled median absolute deviation to the median", "[harness][stats]") {
  // median 3, deviations {2,1,0,1,97} -> 1: one outlier does not move it.
  CHECK(mad({1.0, 2.0, 3.0, 4.0, 100.0}) == 1.0);
  // median 2.5, deviations {1.5,0.5,0.5,1.5} -> 1.0 (no 1.4826 factor).
  CHECK(mad({1.0, 2.0, 3.0, 4.0}) == 1.0);
  CHECK(mad({7.0}) == 0.0);
  CHECK(mad({5.0, 5.0, 5.0}) == 0.0);
  // median 190, deviations {0, 2, 3.1, 1, 2.5} -> 2.
  CHECK(mad({190.0, 188.0, 193.1, 191.0, 187.5}) == Approx(2.0));
}

TEST_CASE("empty input and NaN are errors, not numbers", "[harness][stats]") {
  CHECK_THROWS_AS(median({}), xrd::Error);
  CHECK_THROWS_AS(mad({}), xrd::Error);
  CHECK_THROWS_WITH(median({}), Catch::Contains("no values"));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(median({1.0, nan, 2.0}), Catch::Contains("NaN"));
  CHECK_THROWS_AS(mad({nan}), xrd::Error);
}
