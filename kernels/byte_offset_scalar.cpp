// The scalar byte-offset decoder (the loop is detail::decode_from): the readable reference every fast path is
// tested against, bit for bit.
#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"

namespace xrd::byte_offset {
namespace {

template <typename Out>
DecodeResult decode_any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return detail::decode_from<T, Out>(in, out, 0, 0, 0); });
}

}  // namespace

DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return decode_any(in, out, t);
}
DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return decode_any(in, out, t);
}

}  // namespace xrd::byte_offset
