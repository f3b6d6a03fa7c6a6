// The synthetic generator's pixels: detector layout, defects, Poisson sampler, determinism, rings where the
// geometry (read back from the PONI text with the project's PONI parser and geometry code) puts them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "datasets/poni.hpp"
#include "datasets/synth.hpp"
#include "kernels/byte_offset.hpp"
#include "kernels/geometry.hpp"

using namespace xrd::synth;

namespace {

// One generator per test process (catch_discover_tests runs each TEST_CASE in its own process).
const Generator& gen() {
  static const Generator g([] {
    Params p;
    p.frames = 2;
    return p;
  }(), 2);
  return g;
}

const std::vector<int32_t>& frame0() {
  static const std::vector<int32_t> f = gen().frame(0);
  return f;
}

// 2theta (radians) of every pixel centre, from the PONI text through the integration code's geometry.
const std::vector<double>& tth_from_poni() {
  static const std::vector<double> tth = [] {
    const auto g = xrd::poni::parse(gen().poni_text(), "geometry.poni");
    std::vector<double> v(kPixels);
    xrd::integration::centre_radial(g, kWidth, kHeight, xrd::integration::Unit::tth_rad, v, 2);
    return v;
  }();
  return tth;
}

// Mean of the unmasked pixels of `img` whose 2theta lies in [lo, hi] (radians).
double mean_in(const std::vector<int32_t>& img, double lo, double hi) {
  const auto& tth = tth_from_poni();
  double s = 0;
  size_t n = 0;
  for (size_t k = 0; k < kPixels; ++k)
    if (gen().mask()[k] == 0 && tth[k] >= lo && tth[k] <= hi) {
      s += img[k];
      ++n;
    }
  REQUIRE(n > 100);
  return s / double(n);
}

const Reflection& strongest(const Phase& ph) {
  return *std::max_element(ph.reflections.begin(), ph.reflections.end(),
                           [](auto& a, auto& b) { return a.weight < b.weight; });
}

}  // namespace

TEST_CASE("Pilatus3 2M gap layout: 3 x 8 modules of 487 x 195, 7-px and 17-px gaps") {
  size_t gaps = 0;
  for (size_t y = 0; y < kHeight; ++y)
    for (size_t x = 0; x < kWidth; ++x) gaps += is_gap(x, y);
  CHECK(gaps == kGapPixels);
  CHECK(kGapPixels == 1475u * 1679u - 24u * 487u * 195u);
  // Exact positions: module columns start at 0, 494, 988; module rows every 212 px.
  for (size_t x : {0, 486, 494, 980, 988, 1474}) CHECK_FALSE(is_gap_column(x));
  for (size_t x : {487, 493, 981, 987}) CHECK(is_gap_column(x));
  for (size_t y : {0, 194, 212, 406, 1484, 1678}) CHECK_FALSE(is_gap_row(y));
  for (size_t y : {195, 211, 407, 423, 1467, 1483}) CHECK(is_gap_row(y));
  // The generator's mask holds exactly the gaps plus its dead and hot pixels.
  const auto& m = gen().mask();
  size_t n_gap = 0, n_dead = 0, n_hot = 0;
  for (size_t k = 0; k < kPixels; ++k) {
    const bool gap = is_gap(k % kWidth, k / kWidth);
    CHECK((m[k] == kMaskGap) == gap);
    n_gap += m[k] == kMaskGap;
    n_dead += m[k] == kMaskDead;
    n_hot += m[k] == kMaskHot;
  }
  CHECK(n_gap == kGapPixels);
  CHECK(n_dead == gen().dead_pixels().size());
  CHECK(n_hot == gen().hot_pixels().size());
  CHECK(n_dead == 25);
  CHECK(n_hot == 40);
}

TEST_CASE("frame: gaps read -1, dead pixels -2, hot pixels above 2^20, counts elsewhere") {
  const auto& f = frame0();
  const auto& m = gen().mask();
  size_t n_gap = 0, n_dead = 0, n_hot = 0;
  int32_t max_good = 0;
  for (size_t k = 0; k < kPixels; ++k) {
    if (m[k] == kMaskGap) {
      n_gap += f[k] == -1;
    } else if (m[k] == kMaskDead) {
      n_dead += f[k] == -2;
    } else if (m[k] == kMaskHot) {
      n_hot += f[k] > (1 << 20);
    } else {
      REQUIRE(f[k] >= 0);
      max_good = std::max(max_good, f[k]);
    }
  }
  CHECK(n_gap == kGapPixels);
  CHECK(n_dead == 25);
  CHECK(n_hot == 40);
  CHECK(max_good < (1 << 20));
  CHECK(max_good > 200);  // ring peaks
  // A size like real Pilatus 2M frames: ~1.0-1.1 bytes per pixel once byte-offset encoded.
  const size_t bytes = xrd::byte_offset::encoded_size(f);
  CHECK(bytes > 2'400'000);
  CHECK(bytes < 2'700'000);
}

TEST_CASE("byte_offset_stats agrees with the codec's encoded size") {
  const auto st = byte_offset_stats(frame0());
  CHECK(st.count() == kPixels);
  CHECK(st.bytes() == xrd::byte_offset::encoded_size(frame0()));
  CHECK(st.n7 == 80);  // into and out of each of the 40 hot pixels
  CHECK(st.n15 == 0);
  const double f3 = double(st.n3) / double(st.count());
  CHECK(f3 > 0.002);  // ring edges need 16-bit deltas, as in real frames (peers: 1.2%)
  CHECK(f3 < 0.04);
}

TEST_CASE("frames are deterministic, depend on the seed, and vary along the scan") {
  const auto again = gen().frame(0);
  CHECK(again == frame0());
  Params p;
  p.seed = 4321;
  const Generator other(p, 1);
  const auto f_other = other.frame(0);
  size_t differ = 0;
  for (size_t k = 0; k < kPixels; ++k) differ += f_other[k] != frame0()[k];
  CHECK(differ > kPixels / 2);  // Poisson noise everywhere (the gaps alone agree)
  CHECK(other.dead_pixels() != gen().dead_pixels());

  // Frame 1 (the next scan step): the Al rings get brighter, every ring jitters.
  const auto f1 = gen().frame(1);
  const auto& al = strongest(gen().phases()[2]);
  const double w = 1e-3;
  const double a0 = mean_in(frame0(), al.tth - w, al.tth + w), a1 = mean_in(f1, al.tth - w, al.tth + w);
  CHECK(std::abs(a1 - a0) / a0 > 0.03);
  // Far along the scan the beam crosses the LaB6 inclusion: its rings appear.
  const auto fi0 = gen().frame_info(0);
  const auto fi = gen().frame_info(400);
  CHECK(fi0.fraction[0] == 0.0);
  CHECK(fi.fraction[0] > 0.2);
  const auto& lab6 = strongest(gen().phases()[0]);
  const auto f400 = gen().frame(400);
  CHECK(mean_in(f400, lab6.tth - w, lab6.tth + w) > 3 * mean_in(frame0(), lab6.tth - w, lab6.tth + w));
}

TEST_CASE("rings sit where geometry.poni says: mean at a ring radius well above the background between rings") {
  // The PONI text parses with the project's reader and gives back our numbers exactly.
  const auto g = xrd::poni::parse(gen().poni_text(), "geometry.poni");
  const auto& p = gen().params();
  CHECK(g.dist == p.distance);
  CHECK(g.poni1 == p.poni1);
  CHECK(g.poni2 == p.poni2);
  CHECK(g.rot1 == p.rot1);
  CHECK(g.rot2 == p.rot2);
  CHECK(g.rot3 == p.rot3);
  CHECK(g.wavelength == p.wavelength);
  CHECK(g.pixel1 == kPixelSize);
  CHECK(g.pixel2 == kPixelSize);
  // The integration code's 2theta and ours agree (same pyFAI formulas, written twice; theirs rounds the pixel
  // offsets to float32 as pyFAI does: ~1e-7 rad, a pixel spans ~5e-4 rad).
  const auto& tth = tth_from_poni();
  for (size_t k : {size_t(0), kPixels / 3, kPixels / 2 + 17, kPixels - 1})
    CHECK(tth[k] == Approx(gen().tth(k % kWidth, k / kWidth)).margin(1e-6));

  // Frame 4 has Al and CeO2. Strongest Al ring: peak mean vs a ring-free window just below it.
  const auto f = gen().frame(4);
  const auto& al = strongest(gen().phases()[2]);
  const double peak = mean_in(f, al.tth - 5e-4, al.tth + 5e-4);
  // Find a window 6 mrad wide free of any reflection (+-5 mrad margin) below the ring.
  double lo = al.tth - 0.03;
  for (; lo < al.tth - 0.006; lo += 0.001) {
    bool clear = true;
    for (auto& ph : gen().phases())
      for (auto& r : ph.reflections)
        if (r.tth > lo - 0.005 && r.tth < lo + 0.006 + 0.005) clear = false;
    if (clear) break;
  }
  REQUIRE(lo < al.tth - 0.006);
  const double bg = mean_in(f, lo, lo + 0.006);
  INFO("Al " << al.hkl << " at " << al.tth * 180 / std::numbers::pi << " deg: peak mean " << peak << ", background "
             << bg);
  CHECK(peak > 10 * bg);

  // Sharp peaks: a 1D histogram (0.01 deg bins) of frame 4 peaks within one bin of each strong reflection.
  const double bin = 0.01 * std::numbers::pi / 180;
  const size_t nb = size_t(gen().tth_max() / bin) + 1;
  std::vector<double> sum(nb), cnt(nb);
  for (size_t k = 0; k < kPixels; ++k)
    if (gen().mask()[k] == 0) {
      const size_t b = size_t(tth[k] / bin);
      sum[b] += f[k] / 1.0;
      cnt[b] += 1;
    }
  const auto fi = gen().frame_info(4);
  int checked = 0;
  for (size_t pi = 0; pi < gen().phases().size(); ++pi) {
    if (fi.fraction[pi] < 0.05) continue;
    for (auto& r : gen().phases()[pi].reflections) {
      if (r.weight < 0.4) continue;
      const size_t b = size_t(r.tth / bin);
      size_t best = b - 6;
      for (size_t k = b - 6; k <= b + 6; ++k)
        if (cnt[k] > 0 && sum[k] / cnt[k] > sum[best] / std::max(1.0, cnt[best])) best = k;
      INFO(gen().phases()[pi].name << " " << r.hkl << " expected bin " << b << " got " << best);
      CHECK((best + 1 >= b && best <= b + 1));
      ++checked;
    }
  }
  CHECK(checked >= 3);
}

TEST_CASE("normal quantile and Poisson sampler") {
  using namespace xrd::synth::detail;
  CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-12));
  CHECK(normal_quantile(0.975) == Approx(1.959963985).epsilon(1e-8));
  CHECK(normal_quantile(0.001) == Approx(-3.090232306).epsilon(1e-8));
  CHECK(normal_quantile(1e-9) == Approx(-5.997807015).epsilon(1e-7));

  for (double lambda : {0.0, 0.3, 2.5, 11.9, 15.99, 16.0, 40.0, 1000.0}) {
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double v = poisson(lambda, mix64(uint64_t(i) * 0x9e3779b97f4a7c15ULL + uint64_t(lambda * 1000)));
      s += v;
      s2 += v * v;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    INFO("lambda " << lambda << ": mean " << mean << " variance " << var);
    CHECK(std::abs(mean - lambda) < 5 * std::sqrt(std::max(lambda, 1e-3) / n) + 1e-9);
    CHECK(var == Approx(lambda).epsilon(0.03).margin(1e-3));
  }
  // Deterministic: the same bits give the same sample.
  CHECK(poisson(7.3, 12345) == poisson(7.3, 12345));
  CHECK(stream_key(1, 2, 3) != stream_key(1, 3, 2));
}
