// Median and MAD of repeated timings.
#include "harness/stats.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace xrd::harness {

double median(std::vector<double> v) {
  if (v.empty()) throw Error("", "median", "no values (expected at least one run)");
  for (double x : v)
    if (std::isnan(x)) throw Error("", "median", "a value is NaN (expected finite timings)");
  const size_t n = v.size(), mid = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (n % 2) return hi;
  // The lower middle is the largest element of the left part after nth_element.
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return lo + (hi - lo) / 2;
}

double mad(std::vector<double> v) {
  const double m = median(v);
  for (double& x : v) x = std::fabs(x - m);
  return median(std::move(v));
}

}  // namespace xrd::harness
