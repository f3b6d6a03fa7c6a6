// Shared by the OpenCL tests: the device they run on and comparisons against the scalar reference decoder.
#pragma once
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "kernels/ocl_device.hpp"
#include "kernels/ocl_engine.hpp"

namespace xrd::test {

// The device the OpenCL tests run on: $XRD_TEST_DEVICE (e.g. "opencl:nvidia") or "opencl" (the first GPU, else
// the first device: PoCL in CI). One context for the whole test binary.
inline ocl::DeviceContext& test_context() {
  static std::unique_ptr<ocl::DeviceContext> ctx = [] {
    const char* env = std::getenv("XRD_TEST_DEVICE");
    auto c = std::make_unique<ocl::DeviceContext>(env && *env ? env : "opencl");
    std::printf("OpenCL tests on [%s] %s (%s, driver %s)\n", c->platform().c_str(), c->name().c_str(),
                c->type().c_str(), c->driver().c_str());
    return c;
  }();
  return *ctx;
}

// Same status, counts, offsets and escape facts as the reference, and the same first r.elements values.
template <typename T>
inline void check_same_result(const byte_offset::DecodeResult& ref, const byte_offset::DecodeResult& got, const std::vector<T>& a,
                              const std::vector<T>& b) {
  INFO("reference: " << ref.message());
  INFO("device:    " << got.message());
  REQUIRE(static_cast<int>(got.status) == static_cast<int>(ref.status));
  REQUIRE(got.elements == ref.elements);
  REQUIRE(got.bytes_used == ref.bytes_used);
  REQUIRE(got.error_offset == ref.error_offset);
  REQUIRE(got.escape_bits == ref.escape_bits);
  REQUIRE(got.escape_bytes == ref.escape_bytes);
  REQUIRE(got.message() == ref.message());
  size_t bad = 0, first_bad = 0;
  for (size_t i = 0; i < ref.elements; ++i) {
    const bool same = std::memcmp(&a[i], &b[i], sizeof(T)) == 0;
    if (!same && bad++ == 0) first_bad = i;
  }
  INFO("first mismatch at element " << first_bad);
  REQUIRE(bad == 0);
}

// Decodes `bytes` into n elements with the reference and the device decoder (int32 and float) and compares.
inline void check_against_reference(ocl::Decoder& dec, const std::vector<uint8_t>& bytes, size_t n,
                                    byte_offset::ElementType t = byte_offset::ElementType::i32) {
  {
    std::vector<int32_t> ref(n, 0x5a5a5a5a), got(n, 0x5a5a5a5a);
    auto r = byte_offset::decode_scalar(bytes, ref, t);
    auto g = dec.decode(bytes, got, t);
    check_same_result(r, g, ref, got);
  }
  {
    std::vector<float> ref(n, -7.f), got(n, -7.f);
    auto r = byte_offset::decode_scalar(bytes, ref, t);
    auto g = dec.decode(bytes, got, t);
    check_same_result(r, g, ref, got);
  }
}

}  // namespace xrd::test
