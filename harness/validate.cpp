#include "harness/validate.hpp"

#include <cstdio>

#include <cmath>
#include <limits>
#include <sstream>

#include "base/error.hpp"

namespace xrd::harness {

void PatternSet::reset(size_t frames, size_t bins) {
  bins_ = bins;
  intensity_.assign(frames * bins, 0.0);
  count_.assign(frames * bins, 0.0);
  present_.assign(frames, 0);
}

void PatternSet::store(size_t frame, const integration::Pattern& p) {
  if (frame >= present_.size())
    throw Error("", "frame " + std::to_string(frame), "frame index past the dataset's " +
                                                          std::to_string(present_.size()) + " frames");
  if (p.intensity.size() != bins_ || p.count.size() != bins_)
    throw Error("", "frame " + std::to_string(frame),
                "pattern has " + std::to_string(p.intensity.size()) + " bins, expected " + std::to_string(bins_));
  std::copy(p.intensity.begin(), p.intensity.end(), intensity_.begin() + frame * bins_);
  std::copy(p.count.begin(), p.count.end(), count_.begin() + frame * bins_);
  present_[frame] = 1;
}

std::string Comparison::differs_note(const std::string& what) const {
  char text[96];
  std::snprintf(text, sizeof text, " differs from the reference: max relative difference %.3g > %.0e (", max_rel_diff,
                kValidationTolerance);
  return what + text + worst + ")";
}

double rel_diff(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b)) return (a == b) ? 0.0 : std::numeric_limits<double>::infinity();
  const double d = std::abs(a - b), m = std::max(std::abs(a), std::abs(b));
  return m == 0.0 ? 0.0 : d / m;
}

Comparison compare_patterns(const PatternSet& ref, const PatternSet& run) {
  if (ref.frames() != run.frames() || ref.bins() != run.bins())
    throw Error("", "", "cannot compare patterns of " + std::to_string(run.frames()) + " frames x " +
                            std::to_string(run.bins()) + " bins with a reference of " +
                            std::to_string(ref.frames()) + " x " + std::to_string(ref.bins()));
  Comparison c;
  size_t worst_frame = 0, worst_bin = 0;
  bool worst_is_count = false;
  for (size_t f = 0; f < ref.frames(); ++f) {
    if (!ref.present(f)) {
      c.frames_extra += run.present(f);
      continue;
    }
    if (!run.present(f)) {
      ++c.frames_missing;
      continue;
    }
    ++c.frames_compared;
    const double *ri = ref.intensity(f), *rc = ref.count(f), *gi = run.intensity(f), *gc = run.count(f);
    for (size_t b = 0; b < ref.bins(); ++b) {
      if (!(rc[b] > 0.5)) continue;
      ++c.bins_compared;
      const double di = rel_diff(gi[b], ri[b]), dc = rel_diff(gc[b], rc[b]);
      const double d = std::max(di, dc);
      if (d > c.max_rel_diff || (std::isnan(d) && !std::isnan(c.max_rel_diff))) {
        c.max_rel_diff = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
        worst_frame = f;
        worst_bin = b;
        worst_is_count = dc > di;
      }
    }
  }
  if (c.max_rel_diff > 0) {
    std::ostringstream s;
    s.precision(9);
    const double* g = worst_is_count ? run.count(worst_frame) : run.intensity(worst_frame);
    const double* r = worst_is_count ? ref.count(worst_frame) : ref.intensity(worst_frame);
    s << "frame " << worst_frame << " bin " << worst_bin << ": " << (worst_is_count ? "count " : "intensity ")
      << g[worst_bin] << " vs " << r[worst_bin] << " (reference)";
    c.worst = s.str();
  }
  return c;
}

}  // namespace xrd::harness
