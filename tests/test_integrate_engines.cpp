// The engines: the reference (plain CSR) against hand-computed sums; the sparse engines (fast: strips
// gathered, with AVX2 and scalar; csc: pixel-major) against the reference, on small detectors and on the real
// Pilatus 2M frame: every splitting, dark/flat, pixels negative in one frame only, ranges that cut pixels,
// more bins than 16-bit codes hold, pixel ranges fed in any order, any thread count. Every engine's bound is
// 1e-5 relative; these use the matrix's weights exactly, so only the order of the sums differs: 1e-9 here.
#include <tbb/task_arena.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "kernels/integrate.hpp"
#include "kernels/integrate_csc.hpp"
#include "kernels/integrate_fast.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using namespace xrd::integration;

namespace {

using xrd::test::small_geometry;
constexpr size_t kW = xrd::test::kSmallW, kH = xrd::test::kSmallH;

// A powder-like image: rings on a background, zeros, gaps (-1) and bad pixels (-2).
std::vector<int32_t> small_image(uint32_t seed) {
  std::mt19937 rng(seed);
  std::poisson_distribution<int> bg(3.0);
  std::vector<int32_t> img(kW * kH);
  for (size_t i = 0; i < kH; ++i)
    for (size_t j = 0; j < kW; ++j) {
      const double r = std::hypot(double(i) - 60, double(j) - 45);
      int v = bg(rng) + static_cast<int>(500 * std::exp(-std::pow(std::fmod(r, 17.0) - 8, 2)));
      if (j == 50 || i == 70) v = -1;
      img[i * kW + j] = v;
    }
  for (int k = 0; k < 40; ++k) img[rng() % img.size()] = -2;
  for (int k = 0; k < 200; ++k) img[rng() % img.size()] = 0;
  img[rng() % img.size()] = 2000000000;  // a hot pixel near int32's top
  return img;
}

using test::rel_diff;

// Max relative difference over the bins where either pattern has count > 0.5, all six columns.
double max_diff(const Pattern& a, const Pattern& b) {
  REQUIRE(a.radial.size() == b.radial.size());
  double d = 0;
  for (size_t i = 0; i < a.radial.size(); ++i) {
    d = std::max(d, rel_diff(a.radial[i], b.radial[i]));
    if (a.count[i] <= 0.5 && b.count[i] <= 0.5) continue;
    for (auto col : {&Pattern::intensity, &Pattern::sigma, &Pattern::count, &Pattern::sum_signal,
                     &Pattern::sum_normalization})
      d = std::max(d, rel_diff((a.*col)[i], (b.*col)[i]));
  }
  return d;
}

// The sparse engines under test: the fast one (with its SIMD kernel where the CPU has it, and scalar), and
// the pixel-major one. f(engine, name).
template <class F>
void for_each_engine(const Setup& s, F&& f) {
  for (auto k : {FastIntegrator::Kernel::gather, FastIntegrator::Kernel::scalar}) {
    const FastIntegrator e(s, 0, k);
    f(e, std::string("fast/") + e.kernel());
  }
  {
    const CscIntegrator e(s);
    f(e, std::string("csc"));
  }
}

}  // namespace

TEST_CASE("reference engine: sums as defined (one bin, dark, flat, normalization, negative pixels)") {
  // Every pixel in one bin, no solid angle: intensity = sum(v - dark) / sum(K * flat) over pixels v >= 0.
  Geometry g = small_geometry();
  Options o;
  o.bins = 1;
  o.split = Split::none;
  o.solid_angle = false;
  o.normalization = 2.0;
  const size_t n = 4 * 3;
  std::vector<float> dark(n), flat(n);
  for (size_t p = 0; p < n; ++p) dark[p] = 0.5f * p, flat[p] = 1.0f + 0.25f * p;
  const Setup s = build_setup(g, {}, 4, 3, o, dark, flat);
  const std::vector<int32_t> img = {10, 0, 3, -1, 7, 100, -2, 1, 2, 5, 0, 9};
  double sig = 0, var = 0, nrm = 0, cnt = 0;
  for (size_t p = 0; p < n; ++p) {
    if (img[p] < 0) continue;
    sig += img[p] - dark[p];
    var += std::max(img[p], 1);
    nrm += 2.0 * flat[p];
    cnt += 1;
  }
  Pattern out;
  integrate(s, img, out);
  REQUIRE(out.radial.size() == 1);
  CHECK(out.count[0] == cnt);
  CHECK(out.sum_signal[0] == Approx(sig).epsilon(1e-12));
  CHECK(out.sum_normalization[0] == Approx(nrm).epsilon(1e-7));
  CHECK(out.intensity[0] == Approx(sig / nrm).epsilon(1e-7));
  CHECK(out.sigma[0] == Approx(std::sqrt(var) / nrm).epsilon(1e-7));
  FastIntegrator fast(s);
  Pattern f;
  fast.integrate(img, f);
  CHECK(max_diff(out, f) < 1e-12);
  // Every pixel negative: an empty bin, intensity 0 (pyFAI's empty value).
  const std::vector<int32_t> gone(n, -1);
  integrate(s, gone, out);
  fast.integrate(gone, f);
  for (const Pattern* p : {&out, &f}) {
    CHECK(p->count[0] == 0.0);
    CHECK(p->intensity[0] == 0.0);
    CHECK(p->sigma[0] == 0.0);
  }
  CHECK_THROWS_AS(integrate(s, std::vector<int32_t>(5), out), std::invalid_argument);
  CHECK_THROWS_AS(fast.integrate(std::vector<int32_t>(5), f), std::invalid_argument);
}

TEST_CASE("sparse engines equal the reference on a small tilted detector, every splitting and unit") {
  const Geometry g = small_geometry();
  std::vector<uint8_t> mask(kW * kH, 0);
  for (size_t p = 3; p < mask.size(); p += 11) mask[p] = 1;
  std::vector<float> dark(kW * kH, 1.5f);
  for (Split split : {Split::none, Split::bbox, Split::full})
    for (Unit unit : {Unit::tth_deg, Unit::q_A, Unit::r_mm})
      for (int bins : {7, 100, 300}) {
        Options o;
        o.bins = bins;
        o.unit = unit;
        o.split = split;
        o.polarization = 0.95;
        const Setup s = build_setup(g, mask, kW, kH, o,
                                    bins == 100 ? std::span<const float>(dark) : std::span<const float>());
        for_each_engine(s, [&](const auto& engine, const std::string& name) {
          INFO(name << ": " << to_string(split) << " " << to_string(unit) << " " << bins << " bins");
          for (uint32_t seed : {1u, 2u}) {
            const auto img = small_image(seed);
            Pattern ref, f;
            integrate(s, img, ref);
            engine.integrate(img, f);
            CHECK(max_diff(ref, f) < 1e-9);
          }
        });
      }
}

TEST_CASE("sparse engines: a given range cutting pixels, and more bins than the pixel-major codes hold") {
  const Geometry g = small_geometry();
  const auto img = small_image(3);
  for (Split split : {Split::bbox, Split::full}) {
    Options o;
    o.split = split;
    o.unit = Unit::tth_deg;
    o.bins = 50;
    o.radial_min = 5.0;
    o.radial_max = 40.0;
    const Setup s = build_setup(g, {}, kW, kH, o);
    o.radial_min.reset();
    o.radial_max.reset();
    o.bins = 5000;
    const Setup big = build_setup(g, {}, kW, kH, o);
    CHECK(CscIntegrator(s).compact());
    CHECK_FALSE(CscIntegrator(big).compact());
    for (const Setup* x : {&s, &big})
      for_each_engine(*x, [&](const auto& engine, const std::string& name) {
        INFO(name << ": " << to_string(split) << ", " << x->csr.bins << " bins");
        Pattern ref, f;
        integrate(*x, img, ref);
        engine.integrate(img, f);
        CHECK(max_diff(ref, f) < 1e-9);
      });
  }
}

TEST_CASE("sparse engines: pixel ranges accumulated in any order and size give the whole-frame result") {
  const Geometry g = small_geometry();
  Options o;
  o.bins = 80;
  o.split = Split::bbox;
  const Setup s = build_setup(g, {}, kW, kH, o);
  const auto img = small_image(4);
  for_each_engine(s, [&](const auto& engine, const std::string& name) {
    INFO(name);
    Pattern whole, parts;
    engine.integrate(img, whole);
    std::mt19937 rng(7);
    // Random cuts, fed in reverse order into two accumulators (two "threads"), then merged.
    std::vector<size_t> cuts = {0, img.size()};
    for (int k = 0; k < 25; ++k) cuts.push_back(rng() % img.size());
    std::sort(cuts.begin(), cuts.end());
    auto a = engine.make_accumulator(), b = engine.make_accumulator();
    for (size_t k = cuts.size() - 1; k > 0; --k) {
      const size_t p0 = cuts[k - 1], p1 = cuts[k];
      engine.accumulate(p0, std::span<const int32_t>(img).subspan(p0, p1 - p0), k % 2 ? a : b);
    }
    a.add(b);
    engine.finish(a, parts);
    CHECK(max_diff(whole, parts) < 1e-12);
    // One image row at a time (what a decoder hands over).
    auto rows = engine.make_accumulator();
    for (size_t r = 0; r < kH; ++r)
      engine.accumulate(r * kW, std::span<const int32_t>(img).subspan(r * kW, kW), rows);
    engine.finish(rows, parts);
    CHECK(max_diff(whole, parts) < 1e-12);
    CHECK_THROWS_AS(engine.accumulate(img.size() - 3, std::span<const int32_t>(img).subspan(0, 5), rows),
                    std::out_of_range);
  });
}

TEST_CASE("sparse engines on the real Pilatus 2M frame: equal to the reference, whatever the thread count") {
  const auto& lab6 = test::Lab6::get();
  const auto& image = lab6.image;
  const auto& g = lab6.geometry;
  const auto& mask = lab6.mask_file;
  for (Split split : {Split::none, Split::bbox, Split::full}) {
    Options o;
    o.split = split;
    o.unit = Unit::q_nm;
    const Setup s = build_setup(g, mask, image.width, image.height, o);
    Pattern ref, csr;
    integrate(s, image.pixels, ref);
    tbb::task_arena(3).execute([&] { integrate_csr_parallel(s, image.pixels, csr); });
    CHECK(csr.intensity == ref.intensity);  // same sums in the same order
    CHECK(csr.sigma == ref.sigma);
    CHECK(csr.count == ref.count);
    // The same frame with extra pixels gone negative (a frame where more pixels fail than in the mask file).
    auto holes = image.pixels;
    for (size_t p = 1000; p < holes.size(); p += 9973) holes[p] = -2;
    Pattern ref_holes;
    integrate(s, holes, ref_holes);
    for_each_engine(s, [&](const auto& engine, const std::string& name) {
      INFO(name << ": " << to_string(split));
      Pattern one, many;
      tbb::task_arena(1).execute([&] { engine.integrate(image.pixels, one); });
      tbb::task_arena(4).execute([&] { engine.integrate(image.pixels, many); });
      CHECK(max_diff(ref, one) < 1e-9);
      CHECK(one.intensity == many.intensity);  // fixed blocks, merged in order: bit-identical
      CHECK(one.sigma == many.sigma);
      engine.integrate(holes, one);
      CHECK(max_diff(ref_holes, one) < 1e-9);
      // Blocks of kBlock pixels (a decoder's), the fast path of accumulate().
      auto acc = engine.make_accumulator();
      for (size_t p0 = 0; p0 < holes.size(); p0 += FastIntegrator::kBlock) {
        const size_t n = std::min(FastIntegrator::kBlock, holes.size() - p0);
        engine.accumulate(p0, std::span<const int32_t>(holes).subspan(p0, n), acc);
      }
      engine.finish(acc, one);
      CHECK(max_diff(ref_holes, one) < 1e-9);
    });
  }
}

TEST_CASE("fast engine, automatic: times its two loops on the matrix, keeps one, and integrates as that loop does") {
  const auto& lab6 = test::Lab6::get();
  Options o;
  o.split = Split::bbox;
  o.unit = Unit::q_nm;
  const Setup s = build_setup(lab6.geometry, lab6.mask_file, lab6.image.width, lab6.image.height, o);
  const FastIntegrator a(s, 0, FastIntegrator::Kernel::automatic);
  const std::string k = a.kernel();
  CHECK((k == "avx2-gather" || k == "scalar"));
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) CHECK(k == "scalar");
#endif
  const FastIntegrator same(s, 0, k == "scalar" ? FastIntegrator::Kernel::scalar : FastIntegrator::Kernel::gather);
  CHECK(std::string(same.kernel()) == k);
  Pattern pa, pb, ref;
  a.integrate(lab6.image.pixels, pa);
  same.integrate(lab6.image.pixels, pb);
  integrate(s, lab6.image.pixels, ref);
  CHECK(pa.intensity == pb.intensity);  // the timing passes leave nothing behind
  CHECK(pa.sigma == pb.sigma);
  CHECK(pa.count == pb.count);
  CHECK(max_diff(ref, pa) < 1e-9);
}
