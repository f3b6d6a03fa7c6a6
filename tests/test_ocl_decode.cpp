// The OpenCL byte-offset decoder is bit-exact with the scalar reference: fixtures, real frames, random streams with
// exception runs across chunk, work-group and tile boundaries, every element type, every cut of a stream, and
// work-group sizes that are not powers of two.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "datasets/cbf.hpp"
#include "tests/test_codec_streams.hpp"
#include "tests/test_ocl_support.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using xrd::test::check_against_reference;
using xrd::test::Stream;
using xrd::test::test_context;

namespace {

std::vector<std::filesystem::path> fixture_cbfs() {
  std::vector<std::filesystem::path> out;
  for (const char* dir : {"cbf/fabio_written", "cbf/hand_made", "real"})
    for (auto& e : std::filesystem::directory_iterator(test::fixtures() / dir))
      if (e.path().extension() == ".cbf") out.push_back(e.path());
  out.push_back(test::fixtures() / "pilatus2m_mask.cbf");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("device decoder matches the reference on every fixture, int32 and float", "[ocl][decode][fixtures]") {
  auto& ctx = test_context();
  ocl::Decoder dec(ctx, 8 << 20, 8 << 20);
  for (auto& p : fixture_cbfs()) {
    DYNAMIC_SECTION(p.filename().string()) {
      auto bytes = test::read_bytes(p);
      auto v = cbf::parse(bytes, p.string());
      std::vector<uint8_t> payload(v.payload.begin(), v.payload.end());
      check_against_reference(dec, payload, v.binary.n_elements, v.binary.element_type);
      // Asking for one element fewer or more gives the reference's trailing-bytes / too-few outcome.
      if (v.binary.n_elements > 0) check_against_reference(dec, payload, v.binary.n_elements - 1);
      check_against_reference(dec, payload, v.binary.n_elements + 1);
    }
  }
}

TEST_CASE("device decoder matches the reference on random streams at several work-group sizes", "[ocl][decode]") {
  auto& ctx = test_context();
  std::mt19937_64 rng(20260601);
  for (int wg : {0, 1, 7, 32, 100, 256}) {
    ocl::EngineOptions opt;
    opt.work_group = wg;
    ocl::Decoder dec(ctx, 1 << 20, 1 << 20, opt);
    for (double p_escape : {0.0, 0.01, 0.2, 0.7, 1.0}) {
      for (size_t n : {size_t(0), size_t(1), size_t(15), size_t(16), size_t(17), size_t(4095), size_t(70001)}) {
        INFO("wg " << wg << ", p_escape " << p_escape << ", n " << n);
        auto s = Stream::random(n, p_escape, rng);
        check_against_reference(dec, s.bytes, n);
      }
    }
  }
}

TEST_CASE("device decoder: long exception runs across work-group and tile boundaries", "[ocl][decode]") {
  auto& ctx = test_context();
  ocl::EngineOptions opt;
  opt.work_group = 64;  // tiles of 1024 bytes: many boundaries
  ocl::Decoder dec(ctx, 1 << 20, 1 << 20, opt);
  std::mt19937_64 rng(7);
  for (int width : {3, 7, 15}) {
    for (size_t lead : {size_t(0), size_t(1), size_t(2), size_t(13), size_t(1000), size_t(1023)}) {
      Stream s;
      for (size_t i = 0; i < lead; ++i) s.add(1, Stream::random_delta(1, rng));
      // A run of escapes several tiles long, with 0x80 bytes inside the escapes' payloads.
      for (int i = 0; i < 3000; ++i) s.add(width, i % 3 == 0 ? 128 : i % 3 == 1 ? -128 : Stream::random_delta(width, rng));
      for (int i = 0; i < 500; ++i) s.add(1, Stream::random_delta(1, rng));
      INFO("width " << width << ", lead " << lead);
      check_against_reference(dec, s.bytes, s.acc.size());
    }
  }
}

TEST_CASE("device decoder: every element type, int32 and float", "[ocl][decode]") {
  auto& ctx = test_context();
  ocl::Decoder dec(ctx, 1 << 20, 1 << 20);
  std::mt19937_64 rng(11);
  auto s = Stream::random(50000, 0.3, rng);
  for (auto t : test::kAllTypes) {
    INFO(byte_offset::to_string(t));
    check_against_reference(dec, s.bytes, s.acc.size(), t);
  }
}

TEST_CASE("device decoder: a stream cut anywhere reports what the reference reports", "[ocl][decode][errors]") {
  auto& ctx = test_context();
  ocl::EngineOptions opt;
  opt.work_group = 8;
  ocl::Decoder dec(ctx, 1 << 16, 1 << 16, opt);
  std::mt19937_64 rng(3);
  Stream s;
  for (int i = 0; i < 40; ++i) s.add(1, Stream::random_delta(1, rng));
  for (int width : {3, 7, 15, 1, 15, 7, 3, 15})
    for (int i = 0; i < 6; ++i) s.add(i % 2 ? 1 : width, Stream::random_delta(i % 2 ? 1 : width, rng));
  for (size_t cut = 0; cut <= s.bytes.size(); ++cut) {
    std::vector<uint8_t> b(s.bytes.begin(), s.bytes.begin() + cut);
    INFO("cut at " << cut << " of " << s.bytes.size());
    check_against_reference(dec, b, s.acc.size());      // ends inside an escape, or too few
    check_against_reference(dec, b, s.acc.size() / 2);  // trailing bytes (or truncated before the half)
  }
}

TEST_CASE("device decoder: arbitrary bytes give the reference's outcome", "[ocl][decode][errors]") {
  auto& ctx = test_context();
  ocl::Decoder dec(ctx, 1 << 16, 1 << 16);
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> b(std::uniform_int_distribution<size_t>(0, 3000)(rng));
    const bool dense = trial % 2;
    for (auto& x : b) x = dense && (rng() % 3 == 0) ? 0x80 : static_cast<uint8_t>(rng());
    const size_t n = std::uniform_int_distribution<size_t>(0, b.size() + 10)(rng);
    INFO("trial " << trial << ": " << b.size() << " bytes, " << n << " elements");
    check_against_reference(dec, b, n);
  }
}

TEST_CASE("device decoder refuses inputs larger than it was sized for", "[ocl][decode][errors]") {
  auto& ctx = test_context();
  ocl::Decoder dec(ctx, 100, 50);
  std::vector<uint8_t> big(101, 1);
  std::vector<int32_t> out(50);
  CHECK_THROWS_WITH(dec.decode(big, out), Catch::Contains("exceeds"));
  std::vector<uint8_t> small(10, 1);
  std::vector<int32_t> many(51);
  CHECK_THROWS_WITH(dec.decode(small, many), Catch::Contains("exceed"));
}

TEST_CASE("device decoder on a GPU matches the reference on the real Pilatus 2M frame", "[ocl][decode][gpu]") {
  const ocl::DeviceInfo* gpu = nullptr;
  auto all = ocl::list_devices();
  for (auto& d : all)
    if (d.is_gpu) {
      gpu = &d;
      break;
    }
  if (!gpu) {
    WARN("skipped: no OpenCL GPU on this machine (" << all.size() << " OpenCL device(s), none a GPU)");
    return;
  }
  ocl::DeviceContext ctx(ocl::parse_device_spec(gpu->id()));
  ocl::Decoder dec(ctx, 8 << 20, 8 << 20);
  auto p = test::fixtures() / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
  auto bytes = test::read_bytes(p);
  auto v = cbf::parse(bytes, p.string());
  check_against_reference(dec, std::vector<uint8_t>(v.payload.begin(), v.payload.end()), v.binary.n_elements);
}
