// Frame sources and the codec table: where a frame's compressed bytes come from (one CBF file per frame today;
// frames in HDF5 files, a paced ring next) and how to decode them (byte-offset today; bitshuffle-LZ4 next).
// Strategies see frames only through this seam: a frame index -> its encoded bytes, codec, element type and shape.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "datasets/frame_read.hpp"
#include "kernels/byte_offset.hpp"

namespace xrd::frames {

// The compression of a frame's payload. A new codec: one enum value, one line in codecs() (frame_codecs.cpp), its
// decoder functions.
enum class Codec : uint8_t { byte_offset, bitshuffle_lz4 };
const char* to_string(Codec c);  // "byte-offset" | "bitshuffle-lz4"

// One frame's encoded bytes as its container holds them, and how to decode them. Sources fill it, reusing `storage`.
struct EncodedFrame {
  size_t index = 0;                     // frame index in the source
  std::string origin;                   // names the frame in messages: a CBF path, "data.h5::/entry/data/data[17]"
  Codec codec = Codec::byte_offset;
  byte_offset::ElementType element = byte_offset::ElementType::i32;  // stored pixel type (values wrap to it, then extend to int32)
  size_t width = 0, height = 0;
  size_t payload_offset = 0;            // byte offset of the payload in its file (turns stream offsets into file ones)
  std::optional<std::string> content_md5;  // base64 MD5 of the payload the container declares, when it has one
  std::vector<uint8_t> storage;         // the bytes the source read (a whole CBF file; an HDF5 chunk)
  std::span<const uint8_t> payload;     // the codec's input, inside storage

  size_t pixels() const { return width * height; }
};

// Decodes a frame's payload into exactly pixels() caller-owned values: the fast kernel of its codec, or the scalar
// reference when `reference`. Throws xrd::Error naming frame.origin, the byte offset in the file and what was wrong.
void decode(const EncodedFrame& frame, std::span<int32_t> out, bool reference = false);
void decode(const EncodedFrame& frame, std::span<float> out, bool reference = false);

// The name of the CPU kernel decode() runs for this codec ("avx512", "avx2", "scalar", ...).
std::string decoder_name(Codec c, bool reference = false);

// Checks the payload against the container's declared MD5. Throws xrd::Error naming the origin when it differs, or
// when the container declares none ("absent, but --verify-md5 was asked").
void verify_md5(const EncodedFrame& frame);

// Decodes a frame a block of pixels at a time, each block continuing where the previous one stopped (the fused
// strategy integrates each block while it is in cache). Codecs that cannot resume decode whole frames.
class BlockDecoder {
 public:
  // Starts on a frame (kept by reference until the last block). Returns false when this codec or element type has
  // no block decoding: decode the frame whole instead.
  bool start(const EncodedFrame& frame);
  // Decodes the next out.size() pixels. Throws xrd::Error (as decode() does) on a bad stream.
  void next(std::span<int32_t> out);

 private:
  const EncodedFrame* frame_ = nullptr;
  size_t pos_ = 0, done_ = 0;
  uint32_t carry_ = 0;
};

// A numbered sequence of encoded frames. load() and prefetch() may be called from several threads at once (each with
// its own EncodedFrame).
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual size_t size() const = 0;
  // What names frame i in messages (also before it was read: a file that cannot be opened).
  virtual std::string origin(size_t i) const = 0;
  // Reads frame i into `frame` (storage reused). Throws xrd::Error naming origin(i) when it cannot be read or parsed.
  virtual void load(size_t i, EncodedFrame& frame) const = 0;
  // Where a payload goes when the caller owns the memory (a device's pinned staging): given the frame's metadata
  // (everything but the payload) and the payload's size, returns exactly that many writable bytes.
  using PayloadClaim = std::function<std::span<uint8_t>(const EncodedFrame& frame, size_t payload_bytes)>;
  // Reads frame i's payload straight into the memory claim() returns (no intermediate copy where the container
  // allows it); `frame` gets the metadata and its payload then points into the claimed memory. Default: load(),
  // then one copy. Throws as load() does; claim() is not called when the frame cannot be read or parsed.
  virtual void load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const;
  // Where a whole frame file goes (one read per file, header and payload together: cold O_DIRECT reads into a
  // device's pinned staging): given the bytes the read needs (io::FileReader::room_for_all), returns that many
  // writable bytes, before anything of the file is known.
  using FileClaim = std::function<std::span<uint8_t>(size_t bytes)>;
  // Reads frame i's whole file into the memory claim() returns, with the source's read method (direct: straight to
  // an aligned address in it), and parses it there: `frame` gets the metadata and its payload then points into the
  // claimed memory. Returns false, having read and claimed nothing, where frames are not one file each (the
  // default). Throws as load() does, also after claim() (a bad header): the claimed memory then holds no frame.
  virtual bool load_file_into(size_t i, EncodedFrame& frame, const FileClaim& claim) const { return false; }
  // A hint that frame i will be loaded soon (cold runs: start the disk read now). Default: nothing.
  virtual void prefetch(size_t i) const {}
  // How load() and load_into() read files from now on (`--read-method`; the harness sets it per row, between runs).
  // Sources that do not read whole files themselves ignore it and say pread.
  virtual void set_read_method(io::ReadMethod) const {}
  virtual io::ReadMethod read_method() const { return io::ReadMethod::pread; }
  // An upper bound of any frame's storage bytes (sizes device staging).
  virtual size_t max_frame_bytes() const = 0;
  // The files that hold the frames (cache control: eviction, warming, residency), each once.
  virtual std::vector<std::filesystem::path> files() const = 0;
  // Paced sources: blocks until frame i is released and says whether it may be loaded (false: it was dropped, as
  // a detector stream loses a frame when the buffer is full). Default: every frame is there at once.
  virtual bool acquire(size_t i) const { return true; }
  // Whether acquire(i) said frame i was dropped (strategies hand such frames to FrameSink::dropped, not error).
  virtual bool dropped(size_t i) const { return false; }
  // When frame i is (or was) released; the clock's epoch for sources whose frames are all there at once.
  virtual std::chrono::steady_clock::time_point release_time(size_t i) const { return {}; }
};

// One CBF file per frame (the Pilatus way), in the given order.
class CbfFileSource : public FrameSource {
 public:
  explicit CbfFileSource(std::vector<std::filesystem::path> files);
  size_t size() const override { return files_.size(); }
  std::string origin(size_t i) const override;
  void load(size_t i, EncodedFrame& frame) const override;
  // Reads the header (the first few KiB) into frame.storage, then the payload with one read of the read method
  // (pread, uring: several requests in flight; mmap: one copy; direct: through an aligned bounce buffer) into
  // claimed memory.
  void load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const override;
  // The whole file with one read of the read method (direct: one O_DIRECT request per 4 MiB, in place).
  bool load_file_into(size_t i, EncodedFrame& frame, const FileClaim& claim) const override;
  void prefetch(size_t i) const override;
  void set_read_method(io::ReadMethod m) const override { method_.store(m); }
  io::ReadMethod read_method() const override { return method_.load(); }
  size_t max_frame_bytes() const override;
  std::vector<std::filesystem::path> files() const override { return files_; }

 private:
  std::vector<std::filesystem::path> files_;
  mutable std::atomic<io::ReadMethod> method_{io::ReadMethod::pread};
};

}  // namespace xrd::frames
