// libFuzzer target for the bitshuffle-LZ4 decoder. Input: byte 0 picks the element type (u8, u16, u32), bytes 1-2
// the element count (little-endian), the rest is the chunk. The scalar reference and every supported kernel (1 and 2
// threads) must agree: same values on success, same error offset and message on failure; what decoded re-encodes
// and decodes to the same values.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "kernels/bslz4.hpp"

namespace {

[[noreturn]] void bug() { __builtin_trap(); }

struct Outcome {
  bool ok = false;
  uint64_t offset = 0;
  std::string what;
  std::vector<int32_t> values;
};

template <class F>
Outcome run(size_t n, F&& f) {
  Outcome o;
  o.values.assign(n, 0);
  try {
    f(std::span<int32_t>(o.values));
    o.ok = true;
  } catch (const xrd::bslz4::StreamError& e) {
    o.offset = e.offset();
    o.what = e.what();
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static const xrd::byte_offset::ElementType types[] = {xrd::byte_offset::ElementType::u8, xrd::byte_offset::ElementType::u16,
                                               xrd::byte_offset::ElementType::u32};
  const auto t = types[data[0] % 3];
  const size_t n = data[1] | (static_cast<size_t>(data[2]) << 8);
  const std::span<const uint8_t> chunk(data + 3, size - 3);
  const Outcome ref = run(n, [&](std::span<int32_t> out) { xrd::bslz4::decode_scalar(chunk, out, t); });
  if (ref.offset > chunk.size()) bug();
  for (const auto& k : xrd::bslz4::kernels()) {
    if (!k.supported()) continue;
    for (int threads : {1, 2}) {
      const Outcome got = run(n, [&](std::span<int32_t> out) { xrd::bslz4::decode(chunk, out, t, threads, &k); });
      if (got.ok != ref.ok || got.offset != ref.offset || got.what != ref.what) bug();
      if (ref.ok && got.values != ref.values) bug();
    }
  }
  if (ref.ok) {
    const auto again = xrd::bslz4::encode(xrd::bslz4::to_element_bytes(ref.values, t), xrd::bslz4::element_size(t));
    const Outcome round = run(n, [&](std::span<int32_t> out) { xrd::bslz4::decode(again, out, t); });
    if (!round.ok || round.values != ref.values) bug();
  }
  return 0;
}
