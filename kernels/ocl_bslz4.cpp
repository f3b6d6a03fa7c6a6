// The OpenCL bitshuffle-LZ4 decoder's host side: the chunk's header and block sizes are checked here (the same walk
// as the CPU decoders), the block table and the chunk go to the device in one upload each, one work-group per block
// decodes; a failure on the device is reported with the CPU reference's error for the chunk.
#include "kernels/ocl_bslz4.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"
#include "kernels/ocl_bslz4_detail.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl {

namespace {
constexpr uint32_t kRawBlock = 0xFFFFFFFFu;
constexpr size_t kMaxBlock = 8192;  // bytes of local memory per block: bitshuffle's default block size
}  // namespace

struct Bslz4Decoder::Impl {
  DeviceContext::Impl& ctx;
  size_t max_chunk, max_pixels, wg;
  cl::Kernel kernel;
  cl::Buffer in, table, image, status;
  cl::Event upload, done;
  Impl(DeviceContext::Impl& c, size_t chunk, size_t pixels) : ctx(c), max_chunk(chunk), max_pixels(pixels) {
    try {
      const cl::Program p = ctx.program("bslz4.cl", "-DMAX_BLOCK=" + std::to_string(kMaxBlock));
      kernel = cl::Kernel(p, "bslz4_decode");
      wg = std::min<size_t>(ctx.work_group(128),
                            kernel.getWorkGroupInfo<CL_KERNEL_WORK_GROUP_SIZE>(ctx.device));
      in = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, std::max<size_t>(chunk, 4));
      const size_t max_blocks = pixels / 8 + 2;  // blocks of at least 8 elements, + the raw tail
      table = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, max_blocks * 16);
      image = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, std::max<size_t>(pixels, 1) * 4);
      status = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, 16);
    } catch (const cl::Error& e) {
      throw to_error(e, "bitshuffle-LZ4 decoder setup");
    }
  }
};

Bslz4Decoder::Bslz4Decoder(DeviceContext& ctx, size_t max_chunk_bytes, size_t max_pixels)
    : impl_(std::make_unique<Impl>(ctx.impl(), max_chunk_bytes, max_pixels)) {}

Bslz4Decoder::~Bslz4Decoder() = default;

void Bslz4Decoder::decode(std::span<const uint8_t> chunk, size_t pixels, byte_offset::ElementType t) {
  Impl& m = *impl_;
  const size_t es = bslz4::element_size(t);
  if (pixels > m.max_pixels || chunk.size() > m.max_chunk)
    throw std::invalid_argument("Bslz4Decoder: a chunk of " + std::to_string(chunk.size()) + " bytes / " +
                                std::to_string(pixels) + " pixels exceeds the buffers (" +
                                std::to_string(m.max_chunk) + " / " + std::to_string(m.max_pixels) + ")");
  const bslz4::Layout l = bslz4::parse_header(chunk, es, pixels);  // throws StreamError as the CPU does
  const auto refs = bslz4::detail::walk_blocks(chunk, l);
  if (std::min(l.block_elements, l.elements) * es > kMaxBlock)
    throw bslz4::StreamError(8, "header: blocks of " + std::to_string(l.block_bytes) + " bytes; the OpenCL decoder "
                                "takes blocks of at most " + std::to_string(kMaxBlock) + " bytes (decode on the CPU)");
  std::vector<uint32_t> table;
  table.reserve(4 * (refs.size() + 1));
  for (const auto& r : refs)
    table.insert(table.end(), {static_cast<uint32_t>(r.offset), static_cast<uint32_t>(r.size),
                               static_cast<uint32_t>(r.first), static_cast<uint32_t>(r.expected / es)});
  if (l.leftover_elements)
    table.insert(table.end(), {static_cast<uint32_t>(chunk.size() - l.leftover_elements * es), kRawBlock,
                               static_cast<uint32_t>(l.elements - l.leftover_elements),
                               static_cast<uint32_t>(l.leftover_elements)});
  const size_t groups = table.size() / 4;
  if (groups == 0) return;
  try {
    auto& q = m.ctx.compute_queue;
    const uint32_t zero[4] = {0, 0, 0, 0};
    q.enqueueWriteBuffer(m.status, CL_FALSE, 0, 16, zero);
    q.enqueueWriteBuffer(m.table, CL_FALSE, 0, table.size() * 4, table.data());
    q.enqueueWriteBuffer(m.in, CL_FALSE, 0, chunk.size(), chunk.data(), nullptr, &m.upload);
    m.kernel.setArg(0, m.in);
    m.kernel.setArg(1, m.table);
    m.kernel.setArg(2, static_cast<cl_uint>(es));
    m.kernel.setArg(3, static_cast<cl_uint>(t));
    m.kernel.setArg(4, m.image);
    m.kernel.setArg(5, m.status);
    q.enqueueNDRangeKernel(m.kernel, cl::NullRange, cl::NDRange(groups * m.wg), cl::NDRange(m.wg), nullptr,
                           &m.done);
    uint32_t st[4];
    q.enqueueReadBuffer(m.status, CL_TRUE, 0, 16, st);
    if (st[0] != 0) {
      // The reference gives the error (same message and byte as on the CPU); it cannot disagree that one exists.
      std::vector<int32_t> ref(pixels);
      bslz4::decode_scalar(chunk, std::span<int32_t>(ref), t);
      throw bslz4::StreamError(st[1], "the device found an LZ4 error (code " + std::to_string(st[0]) +
                                          ") that the CPU reference does not: a device decoder bug");
    }
  } catch (const cl::Error& e) {
    throw to_error(e, "bitshuffle-LZ4 decode");
  }
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
