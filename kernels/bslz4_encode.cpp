// The bitshuffle-LZ4 encoder, as the HDF5 filter writes a chunk: header, then per block the bit-shuffle (8x8 bit
// transposes) and LZ4_compress_default with its 4-byte big-endian size; the last elements % 8 elements raw.
#include <lz4.h>

#include <cstring>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"

namespace xrd::bslz4 {

namespace {

void put_be(std::vector<uint8_t>& v, uint64_t x, int n) {
  for (int i = n - 1; i >= 0; --i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

// Elements [0, n) (n a multiple of 8) -> 8 s rows of n / 8 bytes, row 8j + k = bit k of byte j of each element.
void shuffle(const uint8_t* in, size_t n, size_t s, uint8_t* out) {
  const size_t m = n / 8;
  for (size_t c = 0; c < m; ++c)
    for (size_t j = 0; j < s; ++j) {
      uint64_t q = 0;
      for (size_t e = 0; e < 8; ++e) q |= static_cast<uint64_t>(in[(8 * c + e) * s + j]) << (8 * e);
      q = detail::transpose8(q);
      for (size_t k = 0; k < 8; ++k) out[(8 * j + k) * m + c] = static_cast<uint8_t>(q >> (8 * k));
    }
}

}  // namespace

std::vector<uint8_t> encode(std::span<const uint8_t> in, size_t s, size_t block_elements) {
  if (s == 0 || in.size() % s != 0)
    throw std::invalid_argument("bslz4::encode: " + std::to_string(in.size()) + " bytes are not whole elements of " +
                                std::to_string(s) + " bytes");
  if (block_elements == 0) block_elements = default_block_elements(s);
  if (block_elements % 8 != 0)
    throw std::invalid_argument("bslz4::encode: block of " + std::to_string(block_elements) +
                                " elements, expected a multiple of 8");
  const size_t n = in.size() / s;
  std::vector<uint8_t> out;
  out.reserve(12 + in.size() / 2);
  put_be(out, in.size(), 8);
  put_be(out, block_elements * s, 4);
  std::vector<uint8_t> shuffled(block_elements * s);
  const int bound = LZ4_compressBound(static_cast<int>(block_elements * s));
  const size_t blocked = n - n % 8;
  for (size_t first = 0; first < blocked; first += block_elements) {
    const size_t count = std::min(block_elements, blocked - first);
    shuffle(in.data() + first * s, count, s, shuffled.data());
    const size_t at = out.size();
    out.resize(at + 4 + static_cast<size_t>(bound));
    const int c = LZ4_compress_default(reinterpret_cast<const char*>(shuffled.data()),
                                       reinterpret_cast<char*>(out.data() + at + 4), static_cast<int>(count * s),
                                       bound);
    if (c <= 0) throw std::runtime_error("bslz4::encode: LZ4_compress_default failed");
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(static_cast<uint32_t>(c) >> (8 * (3 - i)));
    out.resize(at + 4 + static_cast<size_t>(c));
  }
  out.insert(out.end(), in.begin() + blocked * s, in.end());
  return out;
}

}  // namespace xrd::bslz4
