// Internal to kernels/ocl_*.cpp: the batch layout and launch sequence of the byte-offset decoder
// (kernels/byte_offset.cl), shared by Decoder (one frame, synchronous) and Engine (batches, asynchronous).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl::detail {

// Mirrors the M_* / S_* / META_WORDS / STATUS_WORDS definitions of byte_offset.cl.
inline constexpr size_t kMetaWords = 8, kStatusWords = 8, kChunk = 16, kHalo = 16;
enum Meta { M_IN_OFFSET, M_BYTES, M_ELEMENTS, M_TYPE, M_TILE_FIRST, M_TILES, M_OUT_OFFSET };
enum Status { S_TOKENS, S_TRUNC_INDEX, S_TRUNC_POS, S_TRUNC_BITS, S_POS_N };
inline constexpr uint32_t kNoIndex = 0xFFFFFFFFu;

// How one batch's input buffer is laid out: [meta: frames x kMetaWords][tile -> frame: max_tiles][payloads...].
// The host fills it in pinned memory and uploads it with one copy; the kernels read all three parts from it.
struct Layout {
  int frames = 0;             // frames per batch (capacity)
  size_t max_bytes = 0;       // bytes per frame (payload, or whole file with reserve/commit)
  size_t wg = 0, tile = 0;    // threads per work-group, bytes per tile (wg * kChunk)
  size_t max_tiles = 0;       // tiles of a full batch
  size_t payload_start = 0;   // byte offset of the payload area
  size_t total_bytes = 0;     // the whole buffer
  static Layout make(int frames, size_t max_bytes, size_t wg);
  size_t tiles_of(size_t bytes) const { return (bytes + tile - 1) / tile; }
};

inline constexpr size_t kAlign = 64;  // payloads start at this alignment in the batch buffer
inline size_t align_up(size_t v, size_t a = kAlign) { return (v + a - 1) / a * a; }

struct FrameSpec {
  size_t offset = 0;    // of the payload, from the start of the payload area
  size_t bytes = 0;
  size_t elements = 0;  // elements the device writes (<= the output stride)
  byte_offset::ElementType type = byte_offset::ElementType::i32;
};

// Writes the meta and tile -> frame words at the start of `buf` (the batch buffer); returns the batch's tiles.
uint32_t write_meta(const Layout& l, uint8_t* buf, std::span<const FrameSpec> frames, size_t out_stride);

// The five decoder kernels of one program, and the device scratch of one batch.
struct DecodeKernels {
  size_t wg = 0;
  cl::Kernel maps, entries, counts, bases, write;
  DecodeKernels(DeviceContext::Impl& ctx, size_t wg);
};
struct DecodeScratch {
  cl::Buffer tile_map, tile_entry, chunk_prefix, chunk_entry, tile_sum, tile_base, status;
  DecodeScratch(DeviceContext::Impl& ctx, const Layout& l);
};

// Enqueues the decoder on `q` for `frames` frames of `in` (the batch buffer on the device) into `out` (int32 or
// float bits, frame f at its M_OUT_OFFSET), after `wait`; `last` receives the final kernel's event.
void enqueue_decode(cl::CommandQueue& q, DecodeKernels& k, DecodeScratch& s, const Layout& l, const cl::Buffer& in,
                    const cl::Buffer& out, bool as_float, int frames, uint32_t tiles,
                    const std::vector<cl::Event>* wait, cl::Event* first, cl::Event* last);

// The DecodeResult the scalar reference gives, from the device's status words for a stream of `bytes` bytes
// of which `elements` were wanted.
byte_offset::DecodeResult to_result(const uint32_t* status, size_t bytes, size_t elements);

// The wider of the work-group sizes the device allows for every kernel of `name` built with -DWG=wanted.
size_t usable_wg(DeviceContext::Impl& ctx, const char* name, size_t wanted);

}  // namespace xrd::ocl::detail
