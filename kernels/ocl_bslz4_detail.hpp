// Internal to kernels/ocl_*.cpp: the device image a Bslz4Decoder decodes into (for the engine to integrate in place),
// and the batch machinery of the bitshuffle-LZ4 kernel (kernels/bslz4.cl) that both the one-frame decoder and the
// engine's batched chain (frames read straight into pinned staging) launch.
#pragma once
#include <span>
#include <vector>

#include "kernels/bslz4.hpp"
#include "kernels/ocl_bslz4.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl::detail {
const cl::Buffer& bslz4_image(Bslz4Decoder& d);

// The kernel of one device (built once per context), and its work-group size.
struct Bslz4Kernel {
  cl::Kernel kernel;
  size_t wg = 0;
  explicit Bslz4Kernel(DeviceContext::Impl& ctx, int work_group = 0);
};

// The block table of one launch: any number of chunks, each decoded into its own part of the output image buffer.
// Status words: 2 per frame (error code, byte of `in`), zero when the frame decoded.
class Bslz4Blocks {
 public:
  // Appends the blocks of `chunk` (host bytes; on the device at byte `at` of the input buffer), decoded into
  // elements [out_first, out_first + pixels) of the output, its status in slot `frame`. The header and the block
  // sizes are checked here as the CPU decoders check them: throws bslz4::StreamError (byte of the chunk), adding
  // nothing, also for blocks larger than the kernel takes.
  void add(std::span<const uint8_t> chunk, size_t at, size_t pixels, byte_offset::ElementType t, uint32_t frame,
           size_t out_first);
  void clear() { table_.clear(); }
  void append(const Bslz4Blocks& other) { table_.insert(table_.end(), other.table_.begin(), other.table_.end()); }
  size_t blocks() const { return table_.size() / 4; }
  const std::vector<uint32_t>& table() const { return table_; }

 private:
  std::vector<uint32_t> table_;
};

// Device buffers of one launch in flight: the table (grown as needed) and the status words of `frames` frames.
struct Bslz4Launch {
  cl::Buffer table, status;
  size_t table_bytes = 0, frames = 0;
  std::vector<uint32_t> status_host;  // read back by enqueue() (valid once its `last` event completed)
  Bslz4Launch(DeviceContext::Impl& ctx, size_t frames);
  // Enqueues on q after `wait`: the table up, the status zeroed, the kernel over `blocks` reading `in` and writing
  // int32 pixels into `out`, the status down into status_host. `kernel_done` gets the kernel's event.
  void enqueue(DeviceContext::Impl& ctx, cl::CommandQueue& q, Bslz4Kernel& k, const Bslz4Blocks& blocks,
               const cl::Buffer& in, const cl::Buffer& out, const std::vector<cl::Event>* wait, cl::Event* kernel_done);
};

// The error for a chunk whose status says the device failed: the CPU reference's (message, byte of the chunk), or,
// when the reference decodes it, a "device decoder bug" error at the device's byte.
bslz4::StreamError bslz4_device_error(std::span<const uint8_t> chunk, size_t pixels, byte_offset::ElementType t,
                                      uint32_t code, uint32_t at_in_chunk);
}  // namespace xrd::ocl::detail
