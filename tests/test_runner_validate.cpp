// Validation: patterns equal to the reference within 1e-5 relative pass, larger differences fail and are located;
// empty bins (count <= 0.5) and frames the reference failed are left out; missing frames are counted.
#include <catch2/catch.hpp>

#include "harness/validate.hpp"

using namespace xrd;

namespace {

integration::Pattern pattern(size_t bins, double scale = 1.0) {
  integration::Pattern p;
  p.resize(bins);
  for (size_t b = 0; b < bins; ++b) {
    p.intensity[b] = (100.0 + static_cast<double>(b)) * scale;
    p.count[b] = b == 0 ? 0.0 : 3.0;
  }
  return p;
}

}  // namespace

TEST_CASE("rel_diff is symmetric, 0 for equal values and infinite for NaN") {
  CHECK(harness::rel_diff(1.0, 1.0) == 0.0);
  CHECK(harness::rel_diff(0.0, 0.0) == 0.0);
  CHECK(harness::rel_diff(1.0, 2.0) == Approx(0.5));
  CHECK(harness::rel_diff(2.0, 1.0) == Approx(0.5));
  CHECK(std::isinf(harness::rel_diff(std::nan(""), 1.0)));
}

TEST_CASE("compare_patterns passes within 1e-5 and fails beyond, naming the worst bin") {
  harness::PatternSet ref, run;
  ref.reset(3, 10);
  run.reset(3, 10);
  for (size_t f = 0; f < 3; ++f) ref.store(f, pattern(10));
  run.store(0, pattern(10, 1 + 1e-7));
  run.store(1, pattern(10));
  run.store(2, pattern(10));
  auto c = harness::compare_patterns(ref, run);
  CHECK(c.ok());
  CHECK(c.frames_compared == 3);
  CHECK(c.bins_compared == 27);  // bin 0 is empty

  auto bad = pattern(10);
  bad.intensity[4] *= 1 + 3e-5;
  bad.intensity[0] = 1e9;  // empty bin: ignored
  run.store(2, bad);
  c = harness::compare_patterns(ref, run);
  CHECK(!c.ok());
  CHECK(c.max_rel_diff == Approx(3e-5).epsilon(1e-3));
  CHECK_THAT(c.worst, Catch::Contains("frame 2 bin 4"));
}

TEST_CASE("frames missing from a run are counted; frames the reference failed are skipped") {
  harness::PatternSet ref, run;
  ref.reset(3, 5);
  run.reset(3, 5);
  ref.store(0, pattern(5));
  ref.store(1, pattern(5));
  run.store(0, pattern(5));
  run.store(2, pattern(5));
  const auto c = harness::compare_patterns(ref, run);
  CHECK(c.frames_compared == 1);
  CHECK(c.frames_missing == 1);
  CHECK(c.frames_extra == 1);
  harness::PatternSet other;
  other.reset(3, 6);
  CHECK_THROWS(harness::compare_patterns(ref, other));
  CHECK_THROWS(run.store(0, pattern(6)));
}
