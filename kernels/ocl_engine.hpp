// The OpenCL engine: parallel byte-offset decoding and CSR integration on one device, the decoded image never
// leaving it. Three entry points: decode only, integrate only (a host image), and the device-resident batched
// chain (compressed bytes up, decode + corrections + integrate, patterns down) with asynchronous submit/complete.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/byte_offset.hpp"
#include "base/error.hpp"
#include "kernels/integrate.hpp"
#include "kernels/integrate_engine.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::ocl {

// The compression of a frame in a batch: byte-offset (CBF payloads) or bitshuffle-LZ4 (an NXmx chunk as stored,
// header included; decoded by kernels/bslz4.cl into the same device image slot, integrated alike).
enum class Payload : uint8_t { byte_offset, bslz4 };

struct EngineOptions {
  int work_group = 0;      // threads per work-group for decode and integrate (0: device's best, <= 256)
  int depth = 2;           // batches in flight in the chain (double buffering = 2)
  int bslz4_work_group = 0;  // threads per work-group (one per LZ4 block) of the bitshuffle-LZ4 decoder (0: 64)
};

// Byte-offset decoding on the device (the paper's five steps, made fast: no host round trip, parallel scans at
// any work-group size, 64-bit escapes, never a write past the end). Bit-exact with byte_offset::decode_scalar, including
// the DecodeResult (status, elements, bytes_used, error_offset, escape_bits/bytes) on bad streams.
class Decoder {
 public:
  Decoder(DeviceContext& ctx, size_t max_compressed_bytes, size_t max_elements, EngineOptions opt = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Synchronous: payload up, decode, out.size() elements down (out.size() <= max_elements).
  byte_offset::DecodeResult decode(std::span<const uint8_t> payload, std::span<int32_t> out,
                          byte_offset::ElementType t = byte_offset::ElementType::i32);
  byte_offset::DecodeResult decode(std::span<const uint8_t> payload, std::span<float> out,
                          byte_offset::ElementType t = byte_offset::ElementType::i32);

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// The result of one frame of a batch: a pattern, or an error naming the frame (other frames are unaffected).
struct FrameResult {
  std::string name;                 // as given to Staging::add/commit (the file path)
  uint64_t tag = 0;                 // as given (the frame index)
  std::optional<xrd::Error> error;  // decode failure: names the frame, the byte offset and what was expected
  byte_offset::DecodeResult decode;          // the decoder's outcome (status, elements, bytes_used, ...); for
                                             // bitshuffle-LZ4 frames: ok and the elements, or too_few_elements
                                             // and 0 elements when the chunk failed (`error` says why)
  integration::Pattern pattern;           // valid when !error; capacity reused between batches
};

struct BatchResult {
  std::vector<FrameResult> frames;  // in submission order; only the first `size()` are this batch
  int count = 0;
  size_t size() const { return static_cast<size_t>(count); }
  double device_ms = 0;  // H2D start -> patterns back, from OpenCL profiling events
  double h2d_ms = 0;     // the upload of the batch's compressed bytes
  double compute_ms = 0; // decode + integrate kernels
  double decode_ms = 0;  // of which: the decoder's kernels
  double integrate_ms = 0;  // of which: the integration kernel
  size_t bytes_up = 0;   // bytes copied host -> device for this batch
};

// One batch's pinned (page-locked, mapped) host staging. Fill it, then Engine::submit() it. Frames are packed:
// add() copies a payload in (one memcpy); reserve()/commit() let the caller read a file straight into pinned
// memory (no copy at all) and then say where in it the payload lies.
class Staging {
 public:
  int size() const { return count_; }
  int capacity() const { return capacity_; }
  size_t bytes_left() const;

  // codec: how the payload is compressed; file_offset: where the payload starts in its file (errors name the byte of
  // the file: the chunk's byte + file_offset).
  void add(std::span<const uint8_t> payload, size_t elements, byte_offset::ElementType t = byte_offset::ElementType::i32,
           std::string name = {}, uint64_t tag = 0, Payload codec = Payload::byte_offset, uint64_t file_offset = 0);
  // Writable pinned memory for the next frame (bytes_left() long; empty when the batch is full).
  std::span<uint8_t> reserve();
  // The frame written into reserve(): its payload is [payload_offset, payload_offset + payload_size) of it.
  void commit(size_t payload_offset, size_t payload_size, size_t elements, byte_offset::ElementType t = byte_offset::ElementType::i32,
              std::string name = {}, uint64_t tag = 0, Payload codec = Payload::byte_offset, uint64_t file_offset = 0);
  // reserve() + commit() in one step, for filling several frames at once from several threads: claims
  // payload_offset + payload_size bytes for one frame and returns them (pinned memory) to be written before
  // submit(); the payload is the part from payload_offset on. Throws when the batch or the slot is full.
  std::span<uint8_t> claim(size_t payload_offset, size_t payload_size, size_t elements,
                           byte_offset::ElementType t = byte_offset::ElementType::i32, std::string name = {}, uint64_t tag = 0,
                           Payload codec = Payload::byte_offset, uint64_t file_offset = 0);
  // A whole file read into pinned memory before its payload is known (one request per file; O_DIRECT: an aligned
  // address): claims `bytes` at an address aligned to `align` (a power of two) for one frame and returns the frame's
  // number in the batch and the memory; describe() then says where the payload lies in it and what it is. A claimed
  // frame that is never described is a 0-byte frame (its result is to be dropped by the caller). Throws as claim().
  std::pair<int, std::span<uint8_t>> claim_file(size_t bytes, size_t align, size_t elements, std::string name = {},
                                                uint64_t tag = 0);
  // Frame k of claim_file(): its payload is [payload_offset, payload_offset + payload_size) of the claimed memory.
  // Throws when that is past the claim. Not concurrently with claims (the caller serializes
  // them, as it serializes claims).
  void describe(int k, size_t payload_offset, size_t payload_size, byte_offset::ElementType t, Payload codec,
                uint64_t file_offset);
  void clear();

 private:
  friend class Engine;
  struct StagedFrame {
    size_t offset, size, elements;
    byte_offset::ElementType type;
    std::string name;
    uint64_t tag;
    Payload codec;
    uint64_t file_offset;
    size_t claimed = 0;  // claim_file(): the bytes claimed from offset (describe() checks against it)
  };
  uint8_t* base_ = nullptr;  // pinned memory of the slot's payload area
  size_t bytes_ = 0, used_ = 0, frame_max_ = 0;
  int capacity_ = 0, count_ = 0;
  std::vector<StagedFrame> frames_;
  int slot_ = -1;
};

class Engine {
 public:
  // The matrix, normalisation and dark of `setup` are uploaded once. Frames must have setup.csr.width*height
  // pixels. max_compressed_bytes bounds one frame's payload (or whole file, with reserve/commit).
  Engine(DeviceContext& ctx, const integration::Setup& setup, size_t max_compressed_bytes, int batch_size,
         EngineOptions opt = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const DeviceContext& context() const;
  int batch_size() const;
  size_t pixels() const;

  // (a) decode only (host -> device -> host), as Decoder::decode.
  byte_offset::DecodeResult decode(std::span<const uint8_t> payload, std::span<int32_t> out,
                          byte_offset::ElementType t = byte_offset::ElementType::i32);
  byte_offset::DecodeResult decode(std::span<const uint8_t> payload, std::span<float> out,
                          byte_offset::ElementType t = byte_offset::ElementType::i32);

  // (b) integrate an image decoded on the host (the paper's "CPU decode, GPU integrate"). Synchronous.
  void integrate(std::span<const int32_t> image, integration::Pattern& out);
  // The same for several images at once (one upload and one launch): images.size() == n * pixels().
  void integrate(std::span<const int32_t> images, int n, std::vector<integration::Pattern>& out);

  // (b') a bitshuffle-LZ4 chunk (an NXmx frame as stored): uploaded, decoded on the device into an image that stays
  // there (ocl::Bslz4Decoder), integrated in place; only the pattern comes back. Synchronous. A bad chunk throws
  // bslz4::StreamError (the CPU reference's message and chunk byte).
  void integrate_bslz4(std::span<const uint8_t> chunk, byte_offset::ElementType t, integration::Pattern& out);

  // (c) the device-resident chain. Typical loop (double buffering: fill the next batch while the device runs):
  //   while (more) {
  //     Staging& s = eng.staging();      // blocks only when `depth` batches are in flight: completes none
  //     ... s.add(...) / s.reserve()+s.commit() up to s.capacity() frames ...
  //     eng.submit(s);                   // enqueues upload, decode, integrate, download; returns at once
  //     if (eng.in_flight() == eng.depth()) eng.complete(result), use(result);
  //   }
  //   while (eng.in_flight()) eng.complete(result), use(result);
  Staging& staging();  // the free slot to fill next (throws if all `depth` slots are in flight)
  void submit(Staging& s);
  int in_flight() const;
  int depth() const;
  // Waits for the oldest batch in flight and fills `out` (its frames, in submission order).
  void complete(BatchResult& out);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The engine table's "opencl": images decoded on the host, integrated on config.device (Engine::integrate (b)); one
// frame at a time (not concurrent). variant() is the device's name. Throws xrd::Error without a device.
std::unique_ptr<integration::Engine> make_opencl_engine(const integration::Setup& setup,
                                                        const integration::EngineConfig& config);

}  // namespace xrd::ocl
