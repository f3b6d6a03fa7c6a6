// CBF byte-offset codec: the scalar reference decoder (the readable truth every fast path is tested against),
// the fast CPU decoder (SIMD with run-time dispatch, scalar fallback) and the shortest-stream encoder.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace xrd::byte_offset {

// X-Binary-Element-Type values we support. Decoded values wrap modulo 2^bits of the element type and are then
// sign- (signed types) or zero- (unsigned types) extended into the output type.
enum class ElementType : uint8_t { i8, u8, i16, u16, i32, u32 };
const char* to_string(ElementType t);
int bits(ElementType t);
bool is_signed(ElementType t);

enum class DecodeStatus : uint8_t {
  ok,
  truncated,          // stream ended inside an escape sequence (error_offset: where the escape started)
  too_few_elements,   // stream ended before out.size() elements were produced
  trailing_bytes,     // out.size() elements produced but bytes remain (the stream holds more elements)
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::ok;
  size_t elements = 0;      // elements written to out
  size_t bytes_used = 0;    // stream bytes consumed
  size_t error_offset = 0;  // byte offset in the stream of the problem (when status != ok)
  // Context for message(): the stream length, the elements asked for and, for `truncated`, the escape that was
  // cut short (16, 32 or 64 bits) and how many bytes that escape sequence needs from error_offset (3, 7 or 15).
  size_t stream_size = 0;
  size_t elements_expected = 0;
  int escape_bits = 0;
  size_t escape_bytes = 0;
  bool ok() const { return status == DecodeStatus::ok; }
  // "stream ended inside a 16-bit escape at byte 123 (expected 2 more bytes)", ...
  std::string message() const;
};

// Decode exactly out.size() elements from `in`. Never reads past in.end() nor writes past out.end().
DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t = ElementType::i32);
DecodeResult decode_scalar(std::span<const uint8_t> in, std::span<float> out, ElementType t = ElementType::i32);

// Fast path: same contract and bit-identical output; picks the best kernel for this CPU at run time.
// On failure the elements before r.elements are exact; a fast kernel may have scribbled on the rest of `out`.
DecodeResult decode(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t = ElementType::i32);
DecodeResult decode(std::span<const uint8_t> in, std::span<float> out, ElementType t = ElementType::i32);
const char* fast_decoder_name();  // the kernel decode() runs: "avx512vnni", "avx512", "avx2" or "scalar"

// One decoder kernel of this build. decode() runs the first one this CPU supports, unless use_decoder() chose
// another; tests and benchmarks run each.
struct DecoderKernel {
  const char* name;
  const char* needs;    // the instruction sets it needs, for error messages ("AVX2, BMI1, BMI2")
  bool (*supported)();  // whether this CPU can run it
  DecodeResult (*decode_i32)(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t);
  DecodeResult (*decode_f32)(std::span<const uint8_t> in, std::span<float> out, ElementType t);
};
std::span<const DecoderKernel> decoder_kernels();  // best first; the last one is "scalar" (always supported)

// The kernel called `name`. Throws xrd::Error (field --decoder) naming the kernels of this build when there is no
// such kernel, and what the CPU lacks when it cannot run it.
const DecoderKernel& find_decoder(std::string_view name);
// From now on decode() (every caller in this process: CBF reader, strategies) runs the kernel called `name`, so
// kernels can be compared on one machine (--decoder); find_decoder's errors. "auto" restores the run-time choice.
void use_decoder(std::string_view name);

// Throws xrd::Error ("byte N: <message()>") unless r.ok(); for callers that want exceptions, not values.
void throw_if_failed(const DecodeResult& r);

// Shortest byte-offset stream for `in` (int32 values), written to `out` (cleared first, capacity reused).
void encode(std::span<const int32_t> in, std::vector<uint8_t>& out);
size_t encoded_size(std::span<const int32_t> in);

}  // namespace xrd::byte_offset
