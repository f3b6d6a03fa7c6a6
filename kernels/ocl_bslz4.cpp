// The OpenCL bitshuffle-LZ4 decoder's host side: each chunk's header and block sizes are checked here (the same walk
// as the CPU decoders) into a block table, the table and the chunks go to the device in one upload each, one
// work-group per block decodes (kernels/bslz4.cl); a failure on the device is reported with the CPU reference's
// error for the chunk. One table may hold the blocks of many frames (the engine's batches, ocl_engine.cpp).
#include "kernels/ocl_bslz4.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"
#include "kernels/ocl_bslz4_detail.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl {

namespace {
constexpr uint32_t kRawBlock = 0xFFFFFFFFu;
constexpr size_t kMaxBlock = 8192;                         // decompressed bytes per block: bitshuffle's default
constexpr size_t kMaxIn = kMaxBlock + kMaxBlock / 255 + 16;  // LZ4's bound for it (walk_blocks checks that bound)
constexpr size_t kMaxFrames = size_t(1) << 15;             // frame numbers: 15 bits of the table's 4th word
}  // namespace

namespace detail {

Bslz4Kernel::Bslz4Kernel(DeviceContext::Impl& ctx, int work_group) {
  // XRD_OCL_BSLZ4_SRC=local: stage each block's compressed bytes in local memory (bslz4.cl's LOCAL_SRC), a tuning
  // experiment; default: read them from global memory.
  const char* src = std::getenv("XRD_OCL_BSLZ4_SRC");
  const bool local_src = src && std::string(src) == "local";
  const cl::Program p = ctx.program("bslz4.cl", "-DMAX_BLOCK=" + std::to_string(kMaxBlock) +
                                                    " -DMAX_IN=" + std::to_string(kMaxIn) +
                                                    (local_src ? " -DLOCAL_SRC" : ""));
  kernel = cl::Kernel(p, "bslz4_decode");
  wg = std::min<size_t>(ctx.work_group(work_group > 0 ? work_group : 64),
                        kernel.getWorkGroupInfo<CL_KERNEL_WORK_GROUP_SIZE>(ctx.device));
}

void Bslz4Blocks::add(std::span<const uint8_t> chunk, size_t at, size_t pixels, byte_offset::ElementType t,
                      uint32_t frame, size_t out_first) {
  const size_t es = bslz4::element_size(t);
  const bslz4::Layout l = bslz4::parse_header(chunk, es, pixels);  // throws StreamError as the CPU does
  const auto refs = bslz4::detail::walk_blocks(chunk, l);
  if (std::min(l.block_elements, l.elements) * es > kMaxBlock)
    throw bslz4::StreamError(8, "header: blocks of " + std::to_string(l.block_bytes) + " bytes; the OpenCL decoder "
                                "takes blocks of at most " + std::to_string(kMaxBlock) + " bytes (decode on the CPU)");
  if (frame >= kMaxFrames || at + chunk.size() > 0xFFFFFFFFu || out_first + pixels > 0xFFFFFFFFu)
    throw std::invalid_argument("bitshuffle-LZ4 batch: frame " + std::to_string(frame) + " at byte " +
                                std::to_string(at) + ", pixel " + std::to_string(out_first) +
                                " is past what the block table addresses (2^15 frames, 2^32 bytes and pixels)");
  const uint32_t tag = static_cast<uint32_t>(t) << 14 | frame << 17;
  for (const auto& r : refs) {
    if (r.size > kMaxIn)  // (walk_blocks keeps blocks within LZ4's bound: not reached for blocks <= kMaxBlock)
      throw bslz4::StreamError(r.offset - 4, "block of " + std::to_string(r.size) + " compressed bytes; the OpenCL "
                               "decoder takes at most " + std::to_string(kMaxIn));
  }
  table_.reserve(table_.size() + 4 * (refs.size() + 1));
  for (const auto& r : refs)
    table_.insert(table_.end(), {static_cast<uint32_t>(at + r.offset), static_cast<uint32_t>(r.size),
                                 static_cast<uint32_t>(out_first + r.first),
                                 static_cast<uint32_t>(r.expected / es) | tag});
  if (l.leftover_elements)
    table_.insert(table_.end(), {static_cast<uint32_t>(at + chunk.size() - l.leftover_elements * es), kRawBlock,
                                 static_cast<uint32_t>(out_first + l.elements - l.leftover_elements),
                                 static_cast<uint32_t>(l.leftover_elements) | tag});
}

Bslz4Launch::Bslz4Launch(DeviceContext::Impl& ctx, size_t n) : frames(std::max<size_t>(n, 1)) {
  status = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, frames * 8);
  status_host.assign(frames * 2, 0);
}

void Bslz4Launch::enqueue(DeviceContext::Impl& ctx, cl::CommandQueue& q, Bslz4Kernel& k, const Bslz4Blocks& blocks,
                          const cl::Buffer& in, const cl::Buffer& out, const std::vector<cl::Event>* wait,
                          cl::Event* kernel_done) {
  const size_t bytes = blocks.table().size() * 4;
  if (bytes > table_bytes) {
    table_bytes = std::max(bytes, table_bytes * 2);
    table = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, table_bytes);
  }
  if (bytes) q.enqueueWriteBuffer(table, CL_FALSE, 0, bytes, blocks.table().data());
  const cl_uint zero = 0;
  q.enqueueFillBuffer(status, zero, 0, frames * 8);
  k.kernel.setArg(0, in);
  k.kernel.setArg(1, table);
  k.kernel.setArg(2, out);
  k.kernel.setArg(3, status);
  if (blocks.blocks())
    q.enqueueNDRangeKernel(k.kernel, cl::NullRange, cl::NDRange(blocks.blocks() * k.wg), cl::NDRange(k.wg), wait,
                           kernel_done);
  else
    q.enqueueMarkerWithWaitList(wait, kernel_done);
  q.enqueueReadBuffer(status, CL_FALSE, 0, frames * 8, status_host.data());
}

bslz4::StreamError bslz4_device_error(std::span<const uint8_t> chunk, size_t pixels, byte_offset::ElementType t,
                                      uint32_t code, uint32_t at_in_chunk) {
  // The reference gives the error (same message and byte as on the CPU); it cannot disagree that one exists.
  try {
    std::vector<int32_t> ref(pixels);
    bslz4::decode_scalar(chunk, std::span<int32_t>(ref), t);
  } catch (const bslz4::StreamError& e) {
    return e;
  }
  return bslz4::StreamError(at_in_chunk, "the device found an LZ4 error (code " + std::to_string(code) +
                                             ") that the CPU reference does not: a device decoder bug");
}

}  // namespace detail

using namespace detail;

struct Bslz4Decoder::Impl {
  DeviceContext::Impl& ctx;
  size_t max_chunk, max_pixels;
  Bslz4Kernel kernel;
  Bslz4Launch launch;
  Bslz4Blocks blocks;
  cl::Buffer in, image;
  cl::Event upload, done;
  Impl(DeviceContext::Impl& c, size_t chunk, size_t pixels)
      : ctx(c), max_chunk(chunk), max_pixels(pixels), kernel(c), launch(c, 1) {
    in = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, std::max<size_t>(chunk, 4));
    image = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, std::max<size_t>(pixels, 1) * 4);
  }
};

Bslz4Decoder::Bslz4Decoder(DeviceContext& ctx, size_t max_chunk_bytes, size_t max_pixels) {
  try {
    impl_ = std::make_unique<Impl>(ctx.impl(), max_chunk_bytes, max_pixels);
  } catch (const cl::Error& e) {
    throw to_error(e, "bitshuffle-LZ4 decoder setup");
  }
}

Bslz4Decoder::~Bslz4Decoder() = default;

void Bslz4Decoder::decode(std::span<const uint8_t> chunk, size_t pixels, byte_offset::ElementType t) {
  Impl& m = *impl_;
  if (pixels > m.max_pixels || chunk.size() > m.max_chunk)
    throw std::invalid_argument("Bslz4Decoder: a chunk of " + std::to_string(chunk.size()) + " bytes / " +
                                std::to_string(pixels) + " pixels exceeds the buffers (" +
                                std::to_string(m.max_chunk) + " / " + std::to_string(m.max_pixels) + ")");
  m.blocks.clear();
  m.blocks.add(chunk, 0, pixels, t, 0, 0);  // throws StreamError as the CPU does
  if (m.blocks.blocks() == 0) return;
  try {
    auto& q = m.ctx.compute_queue;
    q.enqueueWriteBuffer(m.in, CL_FALSE, 0, chunk.size(), chunk.data(), nullptr, &m.upload);
    m.launch.enqueue(m.ctx, q, m.kernel, m.blocks, m.in, m.image, nullptr, &m.done);
    q.finish();
  } catch (const cl::Error& e) {
    throw to_error(e, "bitshuffle-LZ4 decode");
  }
  const uint32_t* st = m.launch.status_host.data();
  if (st[0] != 0) throw bslz4_device_error(chunk, pixels, t, st[0], st[1]);
}

void Bslz4Decoder::read(std::span<int32_t> out) {
  try {
    impl_->ctx.compute_queue.enqueueReadBuffer(impl_->image, CL_TRUE, 0, out.size() * 4, out.data());
  } catch (const cl::Error& e) {
    throw to_error(e, "bitshuffle-LZ4 image download");
  }
}

double Bslz4Decoder::last_ms() const { return event_ms(impl_->upload, impl_->done); }

const cl::Buffer& detail::bslz4_image(Bslz4Decoder& d) { return d.impl_->image; }

}  // namespace xrd::ocl
