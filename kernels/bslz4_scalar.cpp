// The bitshuffle-LZ4 scalar reference: liblz4 per block, then each output bit picked from its bit-plane row one at a
// time (slow, obviously right: the fast kernels are tested against it).
#include <algorithm>
#include <cstring>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"

namespace xrd::bslz4 {

namespace {

void unshuffle_bits(const uint8_t* in, size_t n, size_t s, uint8_t* out) {
  const size_t m = n / 8;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < s; ++j) {
      uint8_t byte = 0;
      for (size_t k = 0; k < 8; ++k) byte |= static_cast<uint8_t>(((in[(8 * j + k) * m + i / 8] >> (i % 8)) & 1) << k);
      out[i * s + j] = byte;
    }
}

template <class Out>
void decode_values(std::span<const uint8_t> chunk, std::span<Out> out, byte_offset::ElementType t) {
  std::vector<uint8_t> bytes(out.size() * element_size(t));
  decode_scalar(chunk, std::span<uint8_t>(bytes), element_size(t));
  detail::convert(bytes.data(), out.size(), t, out.data());
}

}  // namespace

void decode_scalar(std::span<const uint8_t> chunk, std::span<uint8_t> out, size_t s) {
  if (s == 0 || out.size() % s != 0)
    throw StreamError(0, "output of " + std::to_string(out.size()) + " bytes is not whole elements of " +
                             std::to_string(s) + " bytes");
  const Layout l = parse_header(chunk, s, out.size() / s);
  const auto refs = detail::walk_blocks(chunk, l);
  std::vector<uint8_t> block(std::min(l.block_elements, l.elements) * s);  // a header cannot make us allocate more
  for (const auto& r : refs) {
    detail::decode_block_lz4(chunk, r, block.data());
    unshuffle_bits(block.data(), r.expected / s, s, out.data() + r.first * s);
  }
  const size_t raw = l.leftover_elements * s;
  if (raw) std::memcpy(out.data() + (l.elements - l.leftover_elements) * s, chunk.data() + chunk.size() - raw, raw);
}

void decode_scalar(std::span<const uint8_t> chunk, std::span<int32_t> out, byte_offset::ElementType t) {
  decode_values(chunk, out, t);
}
void decode_scalar(std::span<const uint8_t> chunk, std::span<float> out, byte_offset::ElementType t) {
  decode_values(chunk, out, t);
}

}  // namespace xrd::bslz4
