// The OpenCL engine agrees with the CPU reference integrator (1e-5 relative on bins with count > 0.5): integrate
// only, and the device-resident chain in batches, where a bad frame gets its own error and spoils no other frame.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "datasets/cbf.hpp"
#include "datasets/mask.hpp"
#include "datasets/poni.hpp"
#include "tests/test_ocl_support.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using xrd::test::test_context;

namespace {

integration::Geometry small_geometry() {
  integration::Geometry g;
  g.dist = 0.05;
  g.poni1 = 0.012;
  g.poni2 = 0.015;
  g.rot1 = 0.05;
  g.rot2 = -0.03;
  g.wavelength = 1.0e-10;
  return g;
}

// A ring pattern with Poisson-like noise, a few negative (gap/bad) pixels and some zeros.
std::vector<int32_t> ring_image(size_t w, size_t h, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> img(w * h);
  for (size_t y = 0; y < h; ++y)
    for (size_t x = 0; x < w; ++x) {
      const double r = std::hypot(double(x) - 80.0, double(y) - 70.0);
      const double lam = 20 + 3000 * std::exp(-0.5 * std::pow(std::fmod(r, 30.0) - 15.0, 2));
      std::poisson_distribution<int> P(lam);
      img[y * w + x] = P(rng);
    }
  for (int k = 0; k < 200; ++k) img[rng() % img.size()] = (k % 2) ? -1 : -2;
  for (int k = 0; k < 50; ++k) img[rng() % img.size()] = 0;
  img[5] = 1 << 20;  // a hot pixel
  return img;
}

void check_close(const integration::Pattern& ref, const integration::Pattern& got, double tol = 1e-5) {
  REQUIRE(got.count.size() == ref.count.size());
  size_t checked = 0;
  for (size_t b = 0; b < ref.count.size(); ++b) {
    CHECK(got.radial[b] == ref.radial[b]);
    if (ref.count[b] <= 0.5) continue;
    ++checked;
    auto rel = [](double a, double e) { return std::abs(a - e) / std::max(std::abs(e), 1e-30); };
    INFO("bin " << b << " count " << ref.count[b]);
    CHECK(rel(got.count[b], ref.count[b]) < tol);
    CHECK(rel(got.sum_signal[b], ref.sum_signal[b]) < tol);
    CHECK(rel(got.sum_normalization[b], ref.sum_normalization[b]) < tol);
    CHECK(rel(got.intensity[b], ref.intensity[b]) < tol);
    CHECK(rel(got.sigma[b], ref.sigma[b]) < tol);
  }
  CHECK(checked > 0);
}

struct Case {
  size_t w = 190, h = 160;
  integration::Setup setup;
  explicit Case(integration::Split split, bool dark = false, bool pol = false) {
    integration::Options o;
    o.bins = 100;
    o.unit = integration::Unit::q_nm;
    o.split = split;
    if (pol) o.polarization = 0.95;
    std::vector<uint8_t> mask(w * h, 0);
    for (size_t x = 0; x < w; ++x) mask[60 * w + x] = 1;  // a masked row, as a module gap
    std::vector<float> d;
    if (dark) {
      d.resize(w * h);
      for (size_t i = 0; i < d.size(); ++i) d[i] = float(i % 7) * 0.5f;
    }
    setup = integration::build_setup(small_geometry(), mask, w, h, o, d);
  }
};

}  // namespace

TEST_CASE("device integration of host images matches the CPU reference", "[ocl][integrate]") {
  auto& ctx = test_context();
  for (auto split : {integration::Split::none, integration::Split::bbox, integration::Split::full}) {
    for (bool dark : {false, true}) {
      DYNAMIC_SECTION("split " << integration::to_string(split) << (dark ? " with dark and polarization" : "")) {
        Case c(split, dark, dark);
        ocl::Engine eng(ctx, c.setup, 1 << 16, 2);
        auto img = ring_image(c.w, c.h, 42);
        integration::Pattern ref, got;
        integration::integrate(c.setup, img, ref);
        eng.integrate(img, got);
        check_close(ref, got);
        // Several images in one launch.
        auto img2 = ring_image(c.w, c.h, 43);
        std::vector<int32_t> both(img);
        both.insert(both.end(), img2.begin(), img2.end());
        std::vector<integration::Pattern> outs;
        eng.integrate(both, 2, outs);
        integration::Pattern ref2;
        integration::integrate(c.setup, img2, ref2);
        check_close(ref, outs[0]);
        check_close(ref2, outs[1]);
      }
    }
  }
}

TEST_CASE("device integration at odd work-group sizes", "[ocl][integrate]") {
  auto& ctx = test_context();
  Case c(integration::Split::bbox);
  auto img = ring_image(c.w, c.h, 1);
  integration::Pattern ref, got;
  integration::integrate(c.setup, img, ref);
  for (int wg : {1, 3, 100}) {
    ocl::EngineOptions opt;
    opt.work_group = wg;
    ocl::Engine eng(ctx, c.setup, 1 << 16, 1, opt);
    eng.integrate(img, got);
    INFO("work-group " << wg);
    check_close(ref, got);
  }
}

TEST_CASE("device-resident chain: batches in flight, a bad frame spoils no other", "[ocl][chain]") {
  auto& ctx = test_context();
  Case c(integration::Split::bbox, true, true);
  const size_t px = c.w * c.h;
  const int frames = 11, batch = 3;
  std::vector<std::vector<int32_t>> imgs;
  std::vector<std::vector<uint8_t>> streams;
  for (int i = 0; i < frames; ++i) {
    imgs.push_back(ring_image(c.w, c.h, 100 + i));
    streams.emplace_back();
    byte_offset::encode(imgs.back(), streams.back());
  }
  // Frame 4: cut inside an escape. Frame 7: twice the elements (trailing bytes), followed by a good frame in the
  // same batch. Frame 9: declares the wrong element count.
  byte_offset::encode(std::span<const int32_t>(imgs[4]).first(px / 2), streams[4]);
  streams[4].push_back(0x80);
  streams[4].push_back(0x01);
  streams[7].insert(streams[7].end(), streams[7].begin(), streams[7].end());
  size_t max_bytes = 0;
  for (auto& s : streams) max_bytes = std::max(max_bytes, s.size() + 100);

  ocl::Engine eng(ctx, c.setup, max_bytes, batch);
  REQUIRE(eng.depth() == 2);
  std::vector<bool> seen(frames, false);
  ocl::BatchResult res;
  auto handle = [&](const ocl::BatchResult& r) {
    for (size_t k = 0; k < r.size(); ++k) {
      const auto& f = r.frames[k];
      const int i = int(f.tag);
      INFO("frame " << i << " " << f.name);
      seen[size_t(i)] = true;
      CHECK(f.name == "frame_" + std::to_string(i) + ".cbf");
      if (i == 4) {
        REQUIRE(f.error);
        CHECK(f.decode.status == byte_offset::DecodeStatus::truncated);
        CHECK_THAT(f.error->what(), Catch::Contains("frame_4.cbf") && Catch::Contains("escape"));
      } else if (i == 7) {
        REQUIRE(f.error);
        CHECK(f.decode.status == byte_offset::DecodeStatus::trailing_bytes);
      } else if (i == 9) {
        REQUIRE(f.error);
        CHECK_THAT(f.error->what(), Catch::Contains("elements"));
      } else {
        REQUIRE_FALSE(f.error);
        integration::Pattern ref;
        integration::integrate(c.setup, imgs[size_t(i)], ref);
        check_close(ref, f.pattern);
      }
    }
    CHECK(r.bytes_up > 0);
  };
  int next = 0;
  bool use_reserve = false;
  while (next < frames) {
    ocl::Staging& s = eng.staging();
    REQUIRE(s.size() == 0);
    while (s.size() < s.capacity() && next < frames) {
      const auto& st = streams[size_t(next)];
      const size_t elements = next == 9 ? px - 1 : px;
      const std::string name = "frame_" + std::to_string(next) + ".cbf";
      if (use_reserve) {
        // A "file": 37 header bytes, then the payload, written straight into pinned memory.
        auto buf = s.reserve();
        REQUIRE(buf.size() >= st.size() + 37);
        std::fill_n(buf.begin(), 37, uint8_t('#'));
        std::copy(st.begin(), st.end(), buf.begin() + 37);
        s.commit(37, st.size(), elements, byte_offset::ElementType::i32, name, uint64_t(next));
      } else {
        s.add(st, elements, byte_offset::ElementType::i32, name, uint64_t(next));
      }
      use_reserve = !use_reserve;
      ++next;
    }
    eng.submit(s);
    if (eng.in_flight() == eng.depth()) {
      eng.complete(res);
      handle(res);
    }
  }
  while (eng.in_flight()) {
    eng.complete(res);
    handle(res);
  }
  for (int i = 0; i < frames; ++i) CHECK(seen[size_t(i)]);
  CHECK_THROWS_WITH(eng.complete(res), Catch::Contains("no batch in flight"));
}

TEST_CASE("chain misuse gives clear errors", "[ocl][chain][errors]") {
  auto& ctx = test_context();
  Case c(integration::Split::none);
  ocl::Engine eng(ctx, c.setup, 1000, 2);
  ocl::Staging& s = eng.staging();
  std::vector<uint8_t> big(1001, 1);
  CHECK_THROWS_WITH(s.add(big, 5, byte_offset::ElementType::i32, "big.cbf"), Catch::Contains("big.cbf") && Catch::Contains("no room"));
  std::vector<uint8_t> ok(10, 1);
  s.add(ok, 10);
  s.add(ok, 10);
  CHECK_THROWS_WITH(s.add(ok, 10), Catch::Contains("no room"));
  eng.submit(s);
  eng.submit(eng.staging());
  CHECK_THROWS_WITH(eng.staging(), Catch::Contains("in flight"));
  ocl::BatchResult r;
  eng.complete(r);
  CHECK(r.size() == 2);
  CHECK(r.frames[0].error);  // 10 elements, not the setup's pixels
  eng.complete(r);
  CHECK(r.size() == 0);
}

TEST_CASE("device chain on the real Pilatus 2M LaB6 frame matches the CPU reference", "[ocl][chain][real]") {
  auto& ctx = test_context();
  const auto dir = test::fixtures() / "real";
  const auto cbf_path = dir / "pilatus3x2m_lab6_300_00_0001p.cbf";
  auto bytes = test::read_bytes(cbf_path);
  auto v = cbf::parse(bytes, cbf_path.string());
  auto geo = poni::read(dir / "pilatus3x2m_lab6_300_00_0001p.poni");
  auto mask = mask::read(test::fixtures() / "pilatus2m_mask.cbf", v.binary.width, v.binary.height);
  integration::Options o;
  o.bins = 1000;
  o.unit = integration::Unit::q_nm;
  o.split = integration::Split::bbox;
  auto setup = integration::build_setup(geo, mask, v.binary.width, v.binary.height, o);
  std::vector<int32_t> img(v.binary.width * v.binary.height);
  cbf::decode(v, img, true);
  integration::Pattern ref;
  integration::integrate(setup, img, ref);

  const int kBatch = 3;
  ocl::Engine eng(ctx, setup, bytes.size(), kBatch);
  // integrate only
  integration::Pattern got;
  eng.integrate(img, got);
  check_close(ref, got);
  // decode only
  std::vector<int32_t> dec(img.size());
  CHECK(eng.decode(v.payload, dec).ok());
  CHECK(dec == img);
  // the chain: the whole file read into pinned memory, the payload found in it; two batches in flight
  ocl::BatchResult r;
  for (int pass = 0; pass < 2; ++pass) {
    for (int b = 0; b < 2; ++b) {
      ocl::Staging& s = eng.staging();
      for (int k = 0; k < kBatch; ++k) {
        auto buf = s.reserve();
        REQUIRE(buf.size() >= bytes.size());
        std::copy(bytes.begin(), bytes.end(), buf.begin());
        s.commit(v.binary.payload_offset, v.payload.size(), v.binary.n_elements, v.binary.element_type,
                 cbf_path.filename().string(), uint64_t(k));
      }
      eng.submit(s);
    }
    for (int b = 0; b < 2; ++b) {
      eng.complete(r);
      REQUIRE(r.size() == size_t(kBatch));
      for (size_t k = 0; k < r.size(); ++k) {
        INFO("pass " << pass << " batch " << b << " frame " << k);
        REQUIRE_FALSE(r.frames[k].error);
        check_close(ref, r.frames[k].pattern);
      }
    }
  }
}
