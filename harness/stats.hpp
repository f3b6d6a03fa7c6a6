// Robust statistics for repeated timings: median and MAD (median absolute deviation to the median, unscaled),
// the two figures the paper's Table 1 reports for its five runs.
#pragma once
#include <vector>

namespace xrd::harness {

// Median of the values (mean of the two middle ones for an even count). Throws xrd::Error on an empty vector or a
// NaN value. Takes the vector by value: it is partially sorted.
double median(std::vector<double> v);

// Median of |v[i] - median(v)|, unscaled (no 1.4826 factor), as in the paper. Same errors as median().
double mad(std::vector<double> v);

}  // namespace xrd::harness
