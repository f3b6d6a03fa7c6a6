// Bitshuffle-LZ4, the compression of Eiger2 / Pilatus4 HDF5 frames (HDF5 filter 32008): the chunk header, the scalar
// reference decoder (liblz4 + a bit-by-bit unshuffle), the fast decoder (liblz4 + SIMD unshuffle chosen at run time,
// blocks optionally decoded in parallel) and the encoder.
//
// A chunk, as the HDF5 filter writes it: 8-byte big-endian uncompressed size in bytes, 4-byte big-endian block size in
// bytes, then per block a 4-byte big-endian compressed size and the LZ4 block (raw LZ4 block format, no frame). Each
// block holds block_elements elements (a multiple of 8) bit-shuffled: 8 x elem_size rows of block_elements / 8 bytes,
// row 8j + k holding bit k of byte j of every element. The last block holds the remaining elements rounded down to a
// multiple of 8; the final (elements % 8) elements follow uncompressed, their bytes as they are. The format has no
// "stored" block: an incompressible block is an LZ4 block of literals, slightly larger than its input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"  // byte_offset::ElementType

namespace xrd::bslz4 {

// A bad chunk: offset is the byte of the chunk (0 = its first header byte) where the problem was found.
class StreamError : public std::runtime_error {
 public:
  StreamError(uint64_t offset, const std::string& what) : std::runtime_error(what), offset_(offset) {}
  uint64_t offset() const { return offset_; }

 private:
  uint64_t offset_;
};

// The block layout a header declares for `elements` elements of elem_size bytes.
struct Layout {
  uint64_t bytes = 0;            // uncompressed bytes (header)
  uint32_t block_bytes = 0;      // block size in bytes (header)
  size_t elem_size = 0;
  size_t elements = 0;
  size_t block_elements = 0;     // block_bytes / elem_size
  size_t full_blocks = 0;        // blocks of block_elements
  size_t last_block_elements = 0;  // the partial block (a multiple of 8; 0 = none)
  size_t leftover_elements = 0;  // elements % 8, stored raw after the blocks
  size_t blocks() const { return full_blocks + (last_block_elements ? 1 : 0); }
  size_t block_elements_of(size_t b) const { return b < full_blocks ? block_elements : last_block_elements; }
};

// Parses and checks the 12-byte header against the expected element count and size. Throws StreamError.
Layout parse_header(std::span<const uint8_t> chunk, size_t elem_size, size_t elements);

// Bytes per element of an element type (1, 2 or 4).
size_t element_size(byte_offset::ElementType t);

// bitshuffle's default block: 8192 bytes / elem_size, rounded down to a multiple of 8, at least 128 elements.
size_t default_block_elements(size_t elem_size);

// The scalar reference: liblz4 per block, then a bit-by-bit unshuffle. out holds exactly the expected elements.
// Element bytes (little-endian, as stored), or values extended to int32 / float as byte_offset::ElementType says.
void decode_scalar(std::span<const uint8_t> chunk, std::span<uint8_t> out_bytes, size_t elem_size);
void decode_scalar(std::span<const uint8_t> chunk, std::span<int32_t> out, byte_offset::ElementType t);
void decode_scalar(std::span<const uint8_t> chunk, std::span<float> out, byte_offset::ElementType t);

// An unshuffle kernel: the bit-shuffled block `in` of n elements (n a multiple of 8) -> n elements' bytes in `out`.
struct Kernel {
  const char* name;
  bool (*supported)();
  void (*unshuffle)(const uint8_t* in, size_t n, size_t elem_size, uint8_t* out);
};
std::span<const Kernel> kernels();  // best first; the last one is "scalar" (always supported)
const Kernel& fast_kernel();        // the first supported one (chosen once per process)
const Kernel* find_kernel(const std::string& name);  // nullptr when unknown

// The fast decoder: liblz4 per block + `kernel` (default: fast_kernel()). threads > 1 decodes blocks in parallel
// (oneTBB, at most that many at once). Same results and errors as decode_scalar.
void decode(std::span<const uint8_t> chunk, std::span<int32_t> out, byte_offset::ElementType t, int threads = 1,
            const Kernel* kernel = nullptr);
void decode(std::span<const uint8_t> chunk, std::span<float> out, byte_offset::ElementType t, int threads = 1,
            const Kernel* kernel = nullptr);
void decode(std::span<const uint8_t> chunk, std::span<uint8_t> out_bytes, size_t elem_size, int threads = 1,
            const Kernel* kernel = nullptr);

// Encodes elements (their bytes, little-endian) into one chunk, header included, as the HDF5 filter does.
// block_elements 0 = default_block_elements(elem_size); otherwise a positive multiple of 8.
std::vector<uint8_t> encode(std::span<const uint8_t> element_bytes, size_t elem_size, size_t block_elements = 0);

// Converts int32 values to stored element bytes (values wrap to the element type).
std::vector<uint8_t> to_element_bytes(std::span<const int32_t> values, byte_offset::ElementType t);

namespace detail {
// 8x8 bit transpose of a 64-bit word (byte r, bit c) -> (byte c, bit r).
uint64_t transpose8(uint64_t x);
// Locates why liblz4 refused a block: walks its sequences and throws StreamError at the bad byte (base = the
// block's offset in the chunk). Throws a generic StreamError when the walk finds nothing liblz4-specific.
[[noreturn]] void diagnose_lz4(std::span<const uint8_t> block, size_t expected, uint64_t base, int lz4_result);
// The scalar unshuffle of the columns [c0, c1) of a block (element groups of 8), for the SIMD kernels' tails.
void unshuffle_columns(const uint8_t* in, size_t n, size_t elem_size, size_t c0, size_t c1, uint8_t* out);
}  // namespace detail

}  // namespace xrd::bslz4
