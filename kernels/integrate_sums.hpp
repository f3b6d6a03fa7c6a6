// What the sparse engines (FastIntegrator, CscIntegrator) share: the sums that do not depend on the frame,
// computed once from the matrix, and the step from a frame's sums to a pattern. Internal to kernels/.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::integration {

class StaticSums {
 public:
  StaticSums() = default;
  explicit StaticSums(const Setup& setup);

  int bins() const { return static_cast<int>(count_.size()); }

  // One matrix entry (bin, pixel, weight) whose pixel is negative in this frame: its static share goes into
  // `masked` (4 per bin: entries, w, w*norm, w*dark), to be taken off by finish().
  void add_masked(int32_t bin, size_t pixel, double w, std::span<double> masked) const {
    double* m = &masked[4 * static_cast<size_t>(bin)];
    m[0] += 1;
    m[1] += w;
    m[2] += w * norm_[pixel];
    if (!dark_.empty()) m[3] += w * dark_[pixel];
  }

  // sv: 2 per bin (sum w*v, sum w^2*max(v,1)) over the frame's non-negative pixels; masked: as above, or
  // empty.
  void finish(std::span<const double> sv, std::span<const double> masked, Pattern& out) const;

 private:
  std::vector<double> radial_;
  std::vector<double> count_, norm_sum_, dark_sum_, entries_;  // per bin, over every entry of the matrix
  std::vector<float> norm_, dark_;                             // per pixel
};

}  // namespace xrd::integration
