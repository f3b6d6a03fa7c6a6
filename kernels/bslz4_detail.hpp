// Internals shared by the bitshuffle-LZ4 decoders (kernels/bslz4_*.cpp only).
#pragma once
#include <vector>

#include "kernels/bslz4.hpp"

namespace xrd::bslz4::detail {

// Where one LZ4 block lies in the chunk and what it decodes to.
struct BlockRef {
  size_t offset = 0;    // first byte of the LZ4 data in the chunk
  size_t size = 0;      // compressed bytes
  size_t first = 0;     // index of its first element
  size_t expected = 0;  // uncompressed bytes
};

// Walks the block sizes after the header: every block present, in bounds and within LZ4's bound, the raw leftover
// elements present, nothing after them. Throws StreamError.
std::vector<BlockRef> walk_blocks(std::span<const uint8_t> chunk, const Layout& l);

// liblz4 into dst (r.expected bytes); on failure throws the diagnosed StreamError.
void decode_block_lz4(std::span<const uint8_t> chunk, const BlockRef& r, uint8_t* dst);

// Element bytes -> values of type t extended to Out.
template <class Out>
void convert(const uint8_t* bytes, size_t n, byte_offset::ElementType t, Out* out);

}  // namespace xrd::bslz4::detail
