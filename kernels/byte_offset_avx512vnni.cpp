// AVX-512 byte-offset kernel for CPUs with AVX-512 VNNI (Ice Lake, Zen 4 and later): the steps of
// byte_offset_avx512_run.hpp, with the prefix sum of 16 bytes done by dot products (vpdpbusd of each 4-byte group,
// broadcast from memory, with 0/1 triangular weights) instead of widening and shuffles: a step with no escape
// needs no shuffle before its carries, and shuffles are what limits the other kernel.
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX-512 (headers above keep the default target, so their inline functions
// never carry AVX-512 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,bmi,bmi2,popcnt")
// GCC 12's AVX-512 intrinsics initialise their "undefined" source operand from itself, which trips these warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/byte_offset_avx512_ops.hpp"
#include "kernels/byte_offset_avx512_dot.hpp"
#include "kernels/byte_offset_avx512_run.hpp"

namespace xrd::byte_offset::kernels {
namespace {

template <typename Out>
DecodeResult any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return run<T, Out, DotPrefix>(in, out); });
}

}  // namespace

DecodeResult avx512vnni_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return any(in, out, t);
}
DecodeResult avx512vnni_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return any(in, out, t);
}

}  // namespace xrd::byte_offset::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace xrd::byte_offset::kernels {
bool avx512vnni_supported() {
  __builtin_cpu_init();  // callers may run before the constructors (static registration of benchmarks)
  return avx512_supported() && __builtin_cpu_supports("avx512vnni");
}
}  // namespace xrd::byte_offset::kernels
