// The fast CPU byte-offset decoder: picks the best kernel for this CPU at run time (scalar for now).
#include "kernels/byte_offset.hpp"

namespace xrd::bo {

DecodeResult decode(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return decode_scalar(in, out, t);
}
DecodeResult decode(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return decode_scalar(in, out, t);
}
const char* fast_decoder_name() { return "scalar"; }

}  // namespace xrd::bo
