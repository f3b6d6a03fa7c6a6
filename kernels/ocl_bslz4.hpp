// The OpenCL bitshuffle-LZ4 decoder (kernels/bslz4.cl): a frame's chunk goes to the device as stored, is checked
// (header and block sizes on the host, LZ4 sequences on the device) and decoded into an int32 image that stays on
// the device. Bit-exact with bslz4::decode_scalar (+ nxmx's overflow rule); a bad chunk throws the reference's
// bslz4::StreamError (same message, same byte).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "kernels/byte_offset.hpp"
#include "kernels/ocl_device.hpp"

namespace cl {
class Buffer;
}

namespace xrd::ocl {

class Bslz4Decoder;
namespace detail {
const cl::Buffer& bslz4_image(Bslz4Decoder& d);
}

class Bslz4Decoder {
 public:
  // max_chunk_bytes / max_pixels: the largest chunk and image it takes (buffers are allocated once).
  Bslz4Decoder(DeviceContext& ctx, size_t max_chunk_bytes, size_t max_pixels);
  ~Bslz4Decoder();
  Bslz4Decoder(const Bslz4Decoder&) = delete;
  Bslz4Decoder& operator=(const Bslz4Decoder&) = delete;

  // Uploads and decodes `chunk` (pixels elements of type t) into the device image; waits for the device.
  void decode(std::span<const uint8_t> chunk, size_t pixels, byte_offset::ElementType t);
  // Copies the first out.size() pixels of the device image to the host.
  void read(std::span<int32_t> out);
  // Milliseconds of the last decode on the device (upload + kernel), from profiling events.
  double last_ms() const;

  struct Impl;

 private:
  friend const cl::Buffer& detail::bslz4_image(Bslz4Decoder&);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xrd::ocl
