// The byte-offset decoder on an OpenCL device: batch layout, launch sequence, status -> DecodeResult, and the
// synchronous one-frame Decoder.
#include <algorithm>
#include <cstring>

#include "kernels/ocl_decode.hpp"
#include "kernels/ocl_engine.hpp"

namespace xrd::ocl {
namespace detail {

Layout Layout::make(int frames, size_t max_bytes, size_t wg) {
  if (frames < 1) throw xrd::Error("", "OpenCL decoder", "a batch needs at least one frame");
  Layout l;
  l.frames = frames;
  l.max_bytes = max_bytes;
  l.wg = wg;
  l.tile = wg * kChunk;
  l.max_tiles = size_t(frames) * std::max<size_t>(1, l.tiles_of(max_bytes));
  l.payload_start = align_up((size_t(frames) * kMetaWords + l.max_tiles) * sizeof(uint32_t), 256);
  l.total_bytes = l.payload_start + size_t(frames) * align_up(std::max<size_t>(max_bytes, 1));
  if (l.total_bytes + l.tile + kHalo >= (size_t(1) << 32))
    throw xrd::Error("", "OpenCL decoder",
                     "a batch of " + std::to_string(frames) + " frames of " + std::to_string(max_bytes) +
                         " bytes needs 4 GiB or more; use smaller batches");
  return l;
}

uint32_t write_meta(const Layout& l, uint8_t* buf, std::span<const FrameSpec> frames, size_t out_stride) {
  auto* meta = reinterpret_cast<uint32_t*>(buf);
  uint32_t* tile_frame = meta + size_t(l.frames) * kMetaWords;
  uint32_t tiles = 0;
  for (size_t f = 0; f < frames.size(); ++f) {
    const auto& fr = frames[f];
    uint32_t* m = meta + f * kMetaWords;
    const uint32_t n_tiles = static_cast<uint32_t>(l.tiles_of(fr.bytes));
    m[M_IN_OFFSET] = static_cast<uint32_t>(l.payload_start + fr.offset);
    m[M_BYTES] = static_cast<uint32_t>(fr.bytes);
    m[M_ELEMENTS] = static_cast<uint32_t>(fr.elements);
    m[M_TYPE] = static_cast<uint32_t>(fr.type);
    m[M_TILE_FIRST] = tiles;
    m[M_TILES] = n_tiles;
    m[M_OUT_OFFSET] = static_cast<uint32_t>(f * out_stride);
    m[7] = 0;
    for (uint32_t t = 0; t < n_tiles; ++t) tile_frame[tiles + t] = static_cast<uint32_t>(f);
    tiles += n_tiles;
  }
  return tiles;
}

static std::string wg_options(size_t wg) { return "-cl-std=CL1.2 -DWG=" + std::to_string(wg); }

size_t usable_wg(DeviceContext::Impl& ctx, const char* name, size_t wanted) {
  size_t wg = wanted;
  for (int attempt = 0; attempt < 4; ++attempt) {
    cl::Program p = ctx.program(name, wg_options(wg));
    std::vector<cl::Kernel> ks;
    p.createKernels(&ks);
    size_t lim = wg;
    for (auto& k : ks) lim = std::min(lim, k.getWorkGroupInfo<CL_KERNEL_WORK_GROUP_SIZE>(ctx.device));
    if (lim >= wg) return wg;
    wg = lim;  // registers or local memory limit this kernel: rebuild for fewer threads
  }
  return wg;
}

DecodeKernels::DecodeKernels(DeviceContext::Impl& ctx, size_t wg_) : wg(wg_) {
  cl::Program p = ctx.program("byte_offset.cl", wg_options(wg));
  maps = cl::Kernel(p, "bo_tile_maps");
  entries = cl::Kernel(p, "bo_frame_entries");
  counts = cl::Kernel(p, "bo_tile_counts");
  bases = cl::Kernel(p, "bo_frame_bases");
  write = cl::Kernel(p, "bo_tile_write");
}

DecodeScratch::DecodeScratch(DeviceContext::Impl& ctx, const Layout& l) {
  const size_t t = l.max_tiles;
  tile_map = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t * sizeof(cl_ulong));
  tile_entry = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t);
  chunk_entry = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t * l.wg);
  chunk_prefix = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t * l.wg * sizeof(cl_ulong));
  tile_sum = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t * sizeof(cl_uint2));
  tile_base = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, t * sizeof(cl_uint2));
  status = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, size_t(l.frames) * kStatusWords * sizeof(cl_uint));
}

void enqueue_decode(cl::CommandQueue& q, DecodeKernels& k, DecodeScratch& s, const Layout& l, const cl::Buffer& in,
                    const cl::Buffer& out, bool as_float, int frames, uint32_t tiles,
                    const std::vector<cl::Event>* wait, cl::Event* first, cl::Event* last) {
  const cl_uint tf_word = static_cast<cl_uint>(size_t(l.frames) * kMetaWords);  // where Layout puts tile -> frame
  const cl::NDRange local(k.wg);
  const cl::NDRange per_frame(size_t(frames) * k.wg);
  if (tiles > 0) {
    const cl::NDRange per_tile(size_t(tiles) * k.wg);
    k.maps.setArg(0, in);
    k.maps.setArg(1, tf_word);
    k.maps.setArg(2, s.tile_map);
    k.maps.setArg(3, s.chunk_prefix);
    q.enqueueNDRangeKernel(k.maps, cl::NullRange, per_tile, local, wait, first);
    k.entries.setArg(0, in);
    k.entries.setArg(1, s.tile_map);
    k.entries.setArg(2, s.tile_entry);
    q.enqueueNDRangeKernel(k.entries, cl::NullRange, per_frame, local);
    k.counts.setArg(0, in);
    k.counts.setArg(1, tf_word);
    k.counts.setArg(2, s.tile_entry);
    k.counts.setArg(3, s.chunk_prefix);
    k.counts.setArg(4, s.chunk_entry);
    k.counts.setArg(5, s.tile_sum);
    q.enqueueNDRangeKernel(k.counts, cl::NullRange, per_tile, local);
  }
  k.bases.setArg(0, in);
  k.bases.setArg(1, s.tile_sum);
  k.bases.setArg(2, s.tile_base);
  k.bases.setArg(3, s.status);
  q.enqueueNDRangeKernel(k.bases, cl::NullRange, per_frame, local, tiles > 0 ? nullptr : wait,
                         tiles > 0 ? nullptr : first);
  if (tiles > 0) {
    const cl::NDRange per_tile(size_t(tiles) * k.wg);
    k.write.setArg(0, in);
    k.write.setArg(1, tf_word);
    k.write.setArg(2, s.chunk_entry);
    k.write.setArg(3, s.tile_base);
    k.write.setArg(4, out);
    k.write.setArg(5, cl_uint(as_float ? 1 : 0));
    k.write.setArg(6, s.status);
    q.enqueueNDRangeKernel(k.write, cl::NullRange, per_tile, local, nullptr, last);
  } else if (last) {
    q.enqueueMarkerWithWaitList(nullptr, last);
  }
}

byte_offset::DecodeResult to_result(const uint32_t* st, size_t bytes, size_t elements) {
  byte_offset::DecodeResult r;
  r.stream_size = bytes;
  r.elements_expected = elements;
  const size_t tokens = st[S_TOKENS];
  const bool cut = st[S_TRUNC_INDEX] != kNoIndex;
  if (cut && st[S_TRUNC_INDEX] < elements) {
    r.status = byte_offset::DecodeStatus::truncated;
    r.elements = st[S_TRUNC_INDEX];
    r.error_offset = r.bytes_used = st[S_TRUNC_POS];
    r.escape_bits = static_cast<int>(st[S_TRUNC_BITS]);
    r.escape_bytes = r.escape_bits == 16 ? 3 : r.escape_bits == 32 ? 7 : 15;
    return r;
  }
  if (tokens < elements) {  // (a truncated token here would have index < elements)
    r.status = byte_offset::DecodeStatus::too_few_elements;
    r.elements = tokens;
    r.error_offset = r.bytes_used = bytes;
    return r;
  }
  r.elements = elements;
  if (tokens > elements) {
    r.status = byte_offset::DecodeStatus::trailing_bytes;
    r.error_offset = r.bytes_used = st[S_POS_N];
    return r;
  }
  r.bytes_used = bytes;
  return r;
}

}  // namespace detail

using namespace detail;

struct Decoder::Impl {
  DeviceContext::Impl& ctx;
  Layout layout;
  size_t max_elements;
  DecodeKernels kernels;
  DecodeScratch scratch;
  cl::Buffer staging, in, out;
  uint8_t* host = nullptr;  // staging, mapped for good

  Impl(DeviceContext::Impl& c, size_t max_bytes, size_t max_el, size_t wg)
      : ctx(c),
        layout(Layout::make(1, max_bytes, wg)),
        max_elements(max_el),
        kernels(c, wg),
        scratch(c, layout) {
    staging = cl::Buffer(ctx.context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, layout.total_bytes);
    in = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, layout.total_bytes);
    out = cl::Buffer(ctx.context, CL_MEM_WRITE_ONLY, std::max<size_t>(1, max_el) * 4);
    host = static_cast<uint8_t*>(ctx.compute_queue.enqueueMapBuffer(staging, CL_TRUE, CL_MAP_WRITE | CL_MAP_READ,
                                                                    0, layout.total_bytes));
  }
  ~Impl() {
    try {
      ctx.compute_queue.enqueueUnmapMemObject(staging, host);
      ctx.compute_queue.finish();
    } catch (const cl::Error&) {
    }
  }

  template <typename T>
  byte_offset::DecodeResult run(std::span<const uint8_t> payload, std::span<T> dst, byte_offset::ElementType t) {
    if (payload.size() > layout.max_bytes)
      throw xrd::Error("", "OpenCL decoder",
                       "payload of " + std::to_string(payload.size()) + " bytes exceeds the decoder's " +
                           std::to_string(layout.max_bytes));
    if (dst.size() > max_elements)
      throw xrd::Error("", "OpenCL decoder",
                       std::to_string(dst.size()) + " elements exceed the decoder's " + std::to_string(max_elements));
    try {
      FrameSpec f{0, payload.size(), dst.size(), t};
      const uint32_t tiles = write_meta(layout, host, {&f, 1}, 0);
      if (!payload.empty()) std::memcpy(host + layout.payload_start, payload.data(), payload.size());
      auto& q = ctx.compute_queue;
      q.enqueueWriteBuffer(in, CL_FALSE, 0, layout.payload_start + payload.size(), host);
      enqueue_decode(q, kernels, scratch, layout, in, out, std::is_same_v<T, float>, 1, tiles, nullptr, nullptr, nullptr);
      uint32_t st[kStatusWords];
      q.enqueueReadBuffer(scratch.status, CL_FALSE, 0, sizeof st, st);
      if (!dst.empty()) q.enqueueReadBuffer(out, CL_FALSE, 0, dst.size_bytes(), dst.data());
      q.finish();
      return to_result(st, payload.size(), dst.size());
    } catch (const cl::Error& e) {
      throw to_error(e, "decode on " + ctx.info.name);
    }
  }
};

Decoder::Decoder(DeviceContext& ctx, size_t max_compressed_bytes, size_t max_elements, EngineOptions opt) {
  try {
    const size_t wg = usable_wg(ctx.impl(), "byte_offset.cl", ctx.impl().work_group(opt.work_group));
    impl_ = std::make_unique<Impl>(ctx.impl(), max_compressed_bytes, max_elements, wg);
  } catch (const cl::Error& e) {
    throw to_error(e, "decoder on " + ctx.name());
  }
}
Decoder::~Decoder() = default;

byte_offset::DecodeResult Decoder::decode(std::span<const uint8_t> payload, std::span<int32_t> out, byte_offset::ElementType t) {
  return impl_->run(payload, out, t);
}
byte_offset::DecodeResult Decoder::decode(std::span<const uint8_t> payload, std::span<float> out, byte_offset::ElementType t) {
  return impl_->run(payload, out, t);
}

}  // namespace xrd::ocl
