// AVX-512 (F, BW, VL, DQ) byte-offset kernel: the steps of byte_offset_avx512_run.hpp, prefix sums by shuffles.
#include <immintrin.h>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"
#include "kernels/byte_offset_kernels.hpp"

// Only the code below is built for AVX-512 (headers above keep the default target, so their inline functions
// never carry AVX-512 code into callers on other CPUs); it runs only after the run-time check.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,bmi,bmi2,popcnt")
// GCC 12's AVX-512 intrinsics initialise their "undefined" source operand from itself, which trips these warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "kernels/byte_offset_avx512_ops.hpp"
#include "kernels/byte_offset_avx512_run.hpp"

namespace xrd::byte_offset::kernels {
namespace {

// prefix16 of the 16 bytes at b, widened first (shuffles).
struct ShufflePrefix {
  static __m512i block(const uint8_t* b) { return prefix16(widen16(b)); }
};

template <typename Out>
DecodeResult any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return run<T, Out, ShufflePrefix>(in, out); });
}

}  // namespace

DecodeResult avx512_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) { return any(in, out, t); }
DecodeResult avx512_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) { return any(in, out, t); }

}  // namespace xrd::byte_offset::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace xrd::byte_offset::kernels {
bool avx512_supported() {
  __builtin_cpu_init();  // callers may run before the constructors (static registration of benchmarks)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2");
}
}  // namespace xrd::byte_offset::kernels
