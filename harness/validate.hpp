// Validation: a benchmark that computed the wrong thing is not a result. Every run's patterns are kept in memory
// (frames x bins) and compared with the reference strategy's (sequential, scalar decoder, plain CSR integrator).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::harness {

inline constexpr double kValidationTolerance = 1e-5;  // max relative difference on bins with count > 0.5

// The patterns of one run: intensity and count per frame and bin, and which frames produced a pattern.
class PatternSet {
 public:
  void reset(size_t frames, size_t bins);  // keeps the capacity; every frame marked absent
  void store(size_t frame, const integration::Pattern& p);  // throws xrd::Error on a bin-count mismatch
  size_t frames() const { return present_.size(); }
  size_t bins() const { return bins_; }
  bool present(size_t frame) const { return present_[frame] != 0; }
  const double* intensity(size_t frame) const { return &intensity_[frame * bins_]; }
  const double* count(size_t frame) const { return &count_[frame * bins_]; }

 private:
  size_t bins_ = 0;
  std::vector<double> intensity_, count_;
  std::vector<uint8_t> present_;
};

struct Comparison {
  double max_rel_diff = 0;      // over compared bins, intensity and count
  size_t frames_compared = 0;
  size_t frames_missing = 0;    // present in the reference, absent from the run (failed frames are excluded)
  size_t frames_extra = 0;      // absent from the reference but present in the run (the reference failed them)
  size_t bins_compared = 0;
  std::string worst;            // "frame 12 bin 345: intensity 1.2 vs 1.3 (reference)" when max_rel_diff > 0
  bool ok(double tolerance = kValidationTolerance) const { return max_rel_diff <= tolerance; }
  // What invalidates a row that is not ok(): "<what> differs from the reference: max relative difference 0.012 >
  // 1e-05 (<worst>)"; `what`: "output", "the patterns file read back".
  std::string differs_note(const std::string& what) const;
};

// Relative difference |a - b| / max(|a|, |b|) (0 when both are 0; NaN/inf anywhere counts as infinitely different).
double rel_diff(double a, double b);

// Compares `run` with `ref` on every frame present in both, on the bins where the reference count > 0.5.
// Throws xrd::Error when the shapes differ.
Comparison compare_patterns(const PatternSet& ref, const PatternSet& run);

}  // namespace xrd::harness
