// The fast CPU byte-offset decoder: the list of kernels and the run-time choice of the best one for this CPU.
#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_kernels.hpp"

namespace xrd::bo {
namespace {

bool always() { return true; }

DecodeResult scalar_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return decode_scalar(in, out, t);
}
DecodeResult scalar_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return decode_scalar(in, out, t);
}

const DecoderKernel kKernels[] = {
    {"avx512", kernels::avx512_supported, kernels::avx512_i32, kernels::avx512_f32},
    {"avx2", kernels::avx2_supported, kernels::avx2_i32, kernels::avx2_f32},
    {"scalar", always, scalar_i32, scalar_f32},
};

const DecoderKernel& best() {
  // Chosen once: the CPU does not change under a running process.
  static const DecoderKernel& k = [&]() -> const DecoderKernel& {
    for (const auto& c : kKernels)
      if (c.supported()) return c;
    return kKernels[std::size(kKernels) - 1];
  }();
  return k;
}

}  // namespace

std::span<const DecoderKernel> decoder_kernels() { return kKernels; }

DecodeResult decode(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return best().decode_i32(in, out, t);
}
DecodeResult decode(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return best().decode_f32(in, out, t);
}
const char* fast_decoder_name() { return best().name; }

}  // namespace xrd::bo
