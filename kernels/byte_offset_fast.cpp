// The fast CPU byte-offset decoder: the list of kernels, the run-time choice of the best one for this CPU and the
// choice by name (--decoder).
#include <atomic>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_kernels.hpp"
#include "base/error.hpp"

namespace xrd::byte_offset {
namespace {

bool always() { return true; }

DecodeResult scalar_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return decode_scalar(in, out, t);
}
DecodeResult scalar_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return decode_scalar(in, out, t);
}

const DecoderKernel kKernels[] = {
    {"avx512vbmi2", "AVX-512 F, BW, VL, DQ, VNNI, VBMI and VBMI2, BMI1, BMI2", kernels::avx512vbmi2_supported,
     kernels::avx512vbmi2_i32, kernels::avx512vbmi2_f32},
    {"avx512vnni", "AVX-512 F, BW, VL, DQ and VNNI, BMI1, BMI2", kernels::avx512vnni_supported,
     kernels::avx512vnni_i32, kernels::avx512vnni_f32},
    {"avx512", "AVX-512 F, BW, VL and DQ, BMI1, BMI2", kernels::avx512_supported, kernels::avx512_i32,
     kernels::avx512_f32},
    {"avx2", "AVX2, BMI1, BMI2", kernels::avx2_supported, kernels::avx2_i32, kernels::avx2_f32},
    {"scalar", "nothing", always, scalar_i32, scalar_f32},
};

const DecoderKernel& best_supported() {
  // Chosen once: the CPU does not change under a running process.
  static const DecoderKernel& k = [&]() -> const DecoderKernel& {
    for (const auto& c : kKernels)
      if (c.supported()) return c;
    return kKernels[std::size(kKernels) - 1];
  }();
  return k;
}

// The kernel use_decoder() chose, or null for the run-time choice. Process-wide on purpose: the CBF reader and
// every strategy call decode(), and one --decoder must reach them all without threading a kernel through each.
std::atomic<const DecoderKernel*> g_chosen{nullptr};

const DecoderKernel& current() {
  const DecoderKernel* k = g_chosen.load(std::memory_order_relaxed);
  return k ? *k : best_supported();
}

}  // namespace

std::span<const DecoderKernel> decoder_kernels() { return kKernels; }

const DecoderKernel& find_decoder(std::string_view name) {
  std::string known, runs;
  for (const auto& k : kKernels) {
    known += (known.empty() ? "" : ", ") + std::string(k.name);
    if (k.supported()) runs += (runs.empty() ? "" : ", ") + std::string(k.name);
  }
  for (const auto& k : kKernels) {
    if (name != k.name) continue;
    if (!k.supported())
      throw Error("", "--decoder", "the " + std::string(k.name) + " kernel needs " + k.needs +
                                       ", which this CPU lacks (it runs: " + runs + ")");
    return k;
  }
  throw Error("", "--decoder", "no byte-offset kernel called '" + std::string(name) + "' (expected auto or one of: " +
                                   known + ")");
}

void use_decoder(std::string_view name) {
  g_chosen.store(name == "auto" ? nullptr : &find_decoder(name), std::memory_order_relaxed);
}

DecodeResult decode(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return current().decode_i32(in, out, t);
}
DecodeResult decode(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return current().decode_f32(in, out, t);
}
const char* fast_decoder_name() { return current().name; }

}  // namespace xrd::byte_offset
