// The scalar byte-offset decoder: the readable reference that every fast path is tested against, bit for bit.
#include <type_traits>

#include "kernels/byte_offset.hpp"
#include "kernels/byte_offset_detail.hpp"

namespace xrd::bo {
namespace {

template <ElementType T, typename Out>
DecodeResult decode_ref(std::span<const uint8_t> in, std::span<Out> out) {
  DecodeResult r;
  r.stream_size = in.size();
  r.elements_expected = out.size();
  const uint8_t* p = in.data();
  const size_t n = in.size();
  size_t pos = 0, i = 0;
  uint32_t acc = 0;  // unsigned: the sum wraps modulo 2^32 without UB
  while (i < out.size() && pos < n) {
    if (p[pos] != 0x80) {
      acc += static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(p[pos])));
      ++pos;
    } else {
      const size_t len = detail::read_escape(p, n, pos, acc, r);
      if (len == 0) {
        r.elements = i;
        return r;
      }
      pos += len;
    }
    out[i++] = detail::convert<T, Out>(acc);
  }
  detail::finish(r, i, out.size(), pos, n);
  return r;
}

template <typename Out>
DecodeResult decode_any(std::span<const uint8_t> in, std::span<Out> out, ElementType t) {
  return detail::dispatch_type(t, [&]<ElementType T>() { return decode_ref<T, Out>(in, out); });
}

}  // namespace

DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t) {
  return decode_any(in, out, t);
}
DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<float> out, ElementType t) {
  return decode_any(in, out, t);
}

}  // namespace xrd::bo
