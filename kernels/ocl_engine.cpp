// The OpenCL engine: the CSR matrix uploaded once, integrate-only for host images, and the device-resident chain
// (pinned staging -> one upload per batch -> decode -> integrate -> patterns down) with `depth` batches in flight
// over two queues (uploads on one, kernels and downloads on the other), so uploads overlap compute.
#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>

#include <tbb/parallel_for.h>

#include "kernels/ocl_bslz4_detail.hpp"
#include "kernels/ocl_decode.hpp"
#include "kernels/ocl_engine.hpp"

namespace xrd::ocl {

using namespace detail;

// ---------------------------------------------------------------------------------------------------- Staging

size_t Staging::bytes_left() const { return bytes_ - used_; }

void Staging::clear() {
  used_ = 0;
  count_ = 0;
  frames_.clear();
}

std::span<uint8_t> Staging::reserve() {
  if (count_ >= capacity_) return {};
  return {base_ + used_, std::min(bytes_left(), frame_max_)};
}

void Staging::commit(size_t payload_offset, size_t payload_size, size_t elements, byte_offset::ElementType t,
                     std::string name, uint64_t tag, Payload codec, uint64_t file_offset) {
  if (count_ >= capacity_)
    throw xrd::Error(name, "", "OpenCL staging: the batch is full (" + std::to_string(capacity_) + " frames)");
  const size_t room = std::min(bytes_left(), frame_max_);
  if (payload_offset + payload_size > room)
    throw xrd::Error(name, "", "OpenCL staging: payload [" + std::to_string(payload_offset) + ", " +
                                   std::to_string(payload_offset + payload_size) + ") is past the " +
                                   std::to_string(room) + " bytes reserved (raise max_compressed_bytes)");
  frames_.push_back(StagedFrame{used_ + payload_offset, payload_size, elements, t, std::move(name), tag, codec, file_offset});
  used_ += align_up(payload_offset + payload_size);
  used_ = std::min(used_, bytes_);
  ++count_;
}

std::span<uint8_t> Staging::claim(size_t payload_offset, size_t payload_size, size_t elements, byte_offset::ElementType t,
                                  std::string name, uint64_t tag, Payload codec, uint64_t file_offset) {
  uint8_t* at = base_ + used_;
  commit(payload_offset, payload_size, elements, t, std::move(name), tag, codec, file_offset);
  return {at, payload_offset + payload_size};
}

std::pair<int, std::span<uint8_t>> Staging::claim_file(size_t bytes, size_t align, size_t elements, std::string name,
                                                      uint64_t tag) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(base_ + used_);
  const size_t pad = static_cast<size_t>(((at + align - 1) & ~uintptr_t(align - 1)) - at);
  if (frames_.capacity() < static_cast<size_t>(capacity_)) frames_.reserve(static_cast<size_t>(capacity_));
  const int k = count_;
  const std::span<uint8_t> room = claim(pad, bytes, elements, byte_offset::ElementType::i32, std::move(name), tag);
  StagedFrame& f = frames_[static_cast<size_t>(k)];
  f.claimed = bytes;
  f.size = 0;  // until describe()
  return {k, room.subspan(pad)};
}

void Staging::describe(int k, size_t payload_offset, size_t payload_size, byte_offset::ElementType t, Payload codec,
                       uint64_t file_offset) {
  StagedFrame& f = frames_.at(static_cast<size_t>(k));
  if (payload_offset + payload_size > f.claimed)
    throw xrd::Error(f.name, "", "OpenCL staging: payload [" + std::to_string(payload_offset) + ", " +
                                     std::to_string(payload_offset + payload_size) + ") is past the " +
                                     std::to_string(f.claimed) + " bytes claimed for the file");
  f.offset += payload_offset;
  f.size = payload_size;
  f.type = t;
  f.codec = codec;
  f.file_offset = file_offset;
}

void Staging::add(std::span<const uint8_t> payload, size_t elements, byte_offset::ElementType t, std::string name,
                  uint64_t tag, Payload codec, uint64_t file_offset) {
  auto dst = reserve();
  if (dst.size() < payload.size() || count_ >= capacity_)
    throw xrd::Error(name, "", "OpenCL staging: no room for a payload of " + std::to_string(payload.size()) +
                                   " bytes (" + std::to_string(dst.size()) + " left in this frame slot, " +
                                   std::to_string(capacity_ - count_) + " frames left in the batch)");
  if (!payload.empty()) std::memcpy(dst.data(), payload.data(), payload.size());
  commit(0, payload.size(), elements, t, std::move(name), tag, codec, file_offset);
}

// ---------------------------------------------------------------------------------------------------- Engine

namespace {
constexpr size_t kOutWords = 10;  // integrate.cl OUT_WORDS
}

struct Engine::Impl {
  DeviceContext& pub;
  DeviceContext::Impl& ctx;
  size_t pixels = 0;
  int bins = 0;
  integration::Csr shape;  // bins, radial, unit: what finish_pattern needs (no matrix)
  std::vector<double> all_norm, all_dark;  // per bin: sum of w * norm, w * dark over the whole row
  bool has_dark = false;
  Layout layout;
  size_t wg_dec = 0, wg_int = 0;
  std::unique_ptr<DecodeKernels> dk;
  cl::Kernel integ;
  cl::Buffer row_ptr, col, val, norm, dark;
  EngineOptions opt;
  std::unique_ptr<Decoder> decoder;  // decode-only, built on first use

  struct Slot {
    Staging staging;
    cl::Buffer pinned, in, images, results;
    std::unique_ptr<DecodeScratch> scratch;
    cl::Buffer status_pinned, sums_pinned;  // the downloads land in pinned memory: truly asynchronous reads
    uint32_t* status = nullptr;
    float* sums = nullptr;
    std::vector<FrameSpec> specs;
    cl::Event up, first, decoded, integrated, done;
    size_t bytes_up = 0;
    bool busy = false;
    // The batch's bitshuffle-LZ4 frames (set up on the first batch that has one): their block table, the launch's
    // device buffers, and per frame the error the host found in its chunk at submit (header, block sizes).
    std::unique_ptr<Bslz4Launch> bs;
    Bslz4Blocks bs_blocks;                 // the launch's table: the frames' tables one after the other
    std::vector<Bslz4Blocks> bs_frames;    // per frame, walked in parallel
    std::vector<std::optional<bslz4::StreamError>> bs_bad;
  };
  std::unique_ptr<Bslz4Kernel> bs_kernel;  // built on the first bitshuffle-LZ4 batch
  std::vector<Slot> slots;
  std::deque<int> order;  // slots in flight, oldest first
  int filling = -1;

  // integrate-only scratch
  cl::Buffer host_images, host_results;
  size_t host_capacity = 0;
  std::unique_ptr<Bslz4Decoder> bslz4;  // made on the first bitshuffle-LZ4 frame
  std::vector<float> host_sums;

  Impl(DeviceContext& c, const integration::Setup& s, size_t max_bytes, int batch, EngineOptions o)
      : pub(c), ctx(c.impl()), opt(o) {
    const auto& csr = s.csr;
    pixels = csr.pixels();
    bins = csr.bins;
    if (bins < 1 || csr.row_ptr.size() != size_t(bins) + 1 || pixels == 0)
      throw xrd::Error("", "OpenCL engine", "the integration setup has no matrix (bins " + std::to_string(bins) +
                                                ", " + std::to_string(pixels) + " pixels)");
    if (s.norm.size() != pixels)
      throw xrd::Error("", "OpenCL engine", "normalisation has " + std::to_string(s.norm.size()) +
                                                " values, the matrix " + std::to_string(pixels) + " pixels");
    has_dark = !s.dark.empty();
    if (has_dark && s.dark.size() != pixels)
      throw xrd::Error("", "OpenCL engine", "dark has " + std::to_string(s.dark.size()) + " values, the matrix " +
                                                std::to_string(pixels) + " pixels");
    if (batch < 1) throw xrd::Error("", "OpenCL engine", "batch size must be at least 1");
    if (opt.depth < 1) opt.depth = 1;
    shape.bins = csr.bins;
    shape.width = csr.width;
    shape.height = csr.height;
    shape.radial = csr.radial;
    shape.unit = csr.unit;
    shape.split = csr.split;
    shape.radial_lo = csr.radial_lo;
    shape.radial_hi = csr.radial_hi;
    all_norm.assign(bins, 0.0);
    all_dark.assign(bins, 0.0);
    for (int b = 0; b < bins; ++b)
      for (int32_t k = csr.row_ptr[b]; k < csr.row_ptr[b + 1]; ++k) {
        const double w = csr.val[k];
        all_norm[b] += w * s.norm[csr.col[k]];
        if (has_dark) all_dark[b] += w * s.dark[csr.col[k]];
      }

    const size_t wanted = ctx.work_group(opt.work_group);
    wg_dec = usable_wg(ctx, "byte_offset.cl", wanted);
    wg_int = usable_wg(ctx, "integrate.cl", wanted);
    dk = std::make_unique<DecodeKernels>(ctx, wg_dec);
    integ = cl::Kernel(ctx.program("integrate.cl", "-cl-std=CL1.2 -DWG=" + std::to_string(wg_int)), "csr_integrate");
    layout = Layout::make(batch, max_bytes, wg_dec);

    // The matrix and the per-pixel corrections: uploaded once.
    auto upload = [&](const void* p, size_t bytes) {
      return cl::Buffer(ctx.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, std::max<size_t>(bytes, 4),
                        const_cast<void*>(bytes ? p : static_cast<const void*>(&pixels)));
    };
    row_ptr = upload(csr.row_ptr.data(), csr.row_ptr.size() * 4);
    col = upload(csr.col.data(), csr.col.size() * 4);
    val = upload(csr.val.data(), csr.val.size() * 4);
    norm = upload(s.norm.data(), s.norm.size() * 4);
    dark = has_dark ? upload(s.dark.data(), s.dark.size() * 4) : upload(nullptr, 0);

    slots.resize(size_t(opt.depth));
    for (size_t i = 0; i < slots.size(); ++i) {
      Slot& sl = slots[i];
      sl.pinned = cl::Buffer(ctx.context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, layout.total_bytes);
      auto* host = static_cast<uint8_t*>(ctx.copy_queue.enqueueMapBuffer(
          sl.pinned, CL_TRUE, CL_MAP_WRITE | CL_MAP_READ, 0, layout.total_bytes));
      sl.in = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, layout.total_bytes);
      sl.images = cl::Buffer(ctx.context, CL_MEM_READ_WRITE, size_t(batch) * pixels * 4);
      sl.results = cl::Buffer(ctx.context, CL_MEM_WRITE_ONLY, size_t(batch) * bins * kOutWords * 4);
      sl.scratch = std::make_unique<DecodeScratch>(ctx, layout);
      const size_t status_bytes = size_t(batch) * kStatusWords * 4, sums_bytes = size_t(batch) * bins * kOutWords * 4;
      sl.status_pinned = cl::Buffer(ctx.context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, status_bytes);
      sl.sums_pinned = cl::Buffer(ctx.context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, sums_bytes);
      sl.status = static_cast<uint32_t*>(ctx.copy_queue.enqueueMapBuffer(sl.status_pinned, CL_TRUE,
                                                                          CL_MAP_READ | CL_MAP_WRITE, 0, status_bytes));
      sl.sums = static_cast<float*>(ctx.copy_queue.enqueueMapBuffer(sl.sums_pinned, CL_TRUE,
                                                                     CL_MAP_READ | CL_MAP_WRITE, 0, sums_bytes));
      sl.staging.base_ = host + layout.payload_start;
      sl.staging.bytes_ = layout.total_bytes - layout.payload_start;
      sl.staging.frame_max_ = max_bytes;
      sl.staging.capacity_ = batch;
      sl.staging.slot_ = int(i);
      sl.staging.frames_.reserve(size_t(batch));
    }
  }

  ~Impl() {
    try {
      ctx.copy_queue.finish();
      ctx.compute_queue.finish();
      for (auto& sl : slots) {
        if (sl.staging.base_) ctx.copy_queue.enqueueUnmapMemObject(sl.pinned, sl.staging.base_ - layout.payload_start);
        if (sl.status) ctx.copy_queue.enqueueUnmapMemObject(sl.status_pinned, sl.status);
        if (sl.sums) ctx.copy_queue.enqueueUnmapMemObject(sl.sums_pinned, sl.sums);
      }
      ctx.copy_queue.finish();
    } catch (const cl::Error&) {
    }
  }

  void enqueue_integrate(const cl::Buffer& images, const cl::Buffer& results, int frames, cl::Event* ev) {
    integ.setArg(0, row_ptr);
    integ.setArg(1, col);
    integ.setArg(2, val);
    integ.setArg(3, norm);
    integ.setArg(4, dark);
    integ.setArg(5, cl_uint(has_dark ? 1 : 0));
    integ.setArg(6, images);
    integ.setArg(7, cl_uint(pixels));
    integ.setArg(8, cl_uint(bins));
    integ.setArg(9, results);
    ctx.compute_queue.enqueueNDRangeKernel(integ, cl::NullRange, cl::NDRange(size_t(bins) * wg_int, size_t(frames)),
                                           cl::NDRange(wg_int, 1), nullptr, ev);
  }

  // The device's five sums of one frame -> a pattern (the reference engine's definitions, integrate.hpp).
  void to_pattern(const float* sums, integration::Pattern& out) {
    out.resize(size_t(bins));
    thread_local std::vector<double> variance;
    variance.assign(size_t(bins), 0.0);
    for (int b = 0; b < bins; ++b) {
      const float* o = sums + size_t(b) * kOutWords;
      const double sig = double(o[0]) + o[1], var = double(o[2]) + o[3], cnt = double(o[4]) + o[5];
      const double neg_norm = double(o[6]) + o[7], neg_dark = double(o[8]) + o[9];
      out.count[b] = cnt;
      variance[b] = var;
      if (cnt == 0) {
        out.sum_signal[b] = 0;
        out.sum_normalization[b] = 0;
      } else {
        out.sum_normalization[b] = all_norm[b] - neg_norm;
        out.sum_signal[b] = has_dark ? sig - (all_dark[b] - neg_dark) : sig;
      }
    }
    integration::finish_pattern(shape, variance, out);
  }

  Staging& staging() {
    if (filling >= 0) return slots[size_t(filling)].staging;
    for (size_t i = 0; i < slots.size(); ++i)
      if (!slots[i].busy) {
        filling = int(i);
        slots[i].staging.clear();
        return slots[i].staging;
      }
    throw xrd::Error("", "OpenCL engine", "all " + std::to_string(slots.size()) +
                                              " batches are in flight: complete() one before filling another");
  }

  void submit(Staging& s) {
    if (s.slot_ < 0 || size_t(s.slot_) >= slots.size() || &slots[size_t(s.slot_)].staging != &s)
      throw xrd::Error("", "OpenCL engine", "submit() takes the Staging that staging() returned");
    Slot& sl = slots[size_t(s.slot_)];
    if (sl.busy) throw xrd::Error("", "OpenCL engine", "this batch was already submitted");
    const int n = s.count_;
    sl.specs.clear();
    bool any_bo = false, any_bs = false;
    for (auto& f : s.frames_) {
      // A bitshuffle-LZ4 frame is an empty stream to the byte-offset kernels (they write none of its pixels).
      const bool bs = f.codec == Payload::bslz4;
      (bs ? any_bs : any_bo) = true;
      sl.specs.push_back(FrameSpec{f.offset, bs ? 0 : f.size, bs ? 0 : std::min(f.elements, pixels), f.type});
    }
    if (any_bs) {
      if (!bs_kernel) bs_kernel = std::make_unique<Bslz4Kernel>(ctx, opt.bslz4_work_group);
      if (!sl.bs) sl.bs = std::make_unique<Bslz4Launch>(ctx, size_t(layout.frames));
      sl.bs_bad.assign(size_t(n), std::nullopt);
      if (sl.bs_frames.size() < size_t(n)) sl.bs_frames.resize(size_t(n));
      // The chunks' headers and block sizes, walked in parallel: a walk is one dependent load per block (~0.1 ms
      // for an Eiger2 4M frame on one core, latency-bound), too slow for one thread at the device's rate.
      tbb::parallel_for(0, n, [&](int i) {
        Bslz4Blocks& b = sl.bs_frames[size_t(i)];
        b.clear();
        const auto& f = s.frames_[size_t(i)];
        if (f.codec != Payload::bslz4 || f.elements != pixels) return;  // (complete() reports a wrong size)
        try {
          b.add({s.base_ + f.offset, f.size}, layout.payload_start + f.offset, pixels, f.type, uint32_t(i),
                size_t(i) * pixels);
        } catch (const bslz4::StreamError& e) {
          sl.bs_bad[size_t(i)] = e;  // its pixels are not decoded; its result is the error
        }
      });
      sl.bs_blocks.clear();
      for (int i = 0; i < n; ++i) sl.bs_blocks.append(sl.bs_frames[size_t(i)]);
    }
    uint8_t* host = s.base_ - layout.payload_start;
    const uint32_t tiles = write_meta(layout, host, sl.specs, pixels);
    sl.bytes_up = layout.payload_start + s.used_;
    ctx.copy_queue.enqueueWriteBuffer(sl.in, CL_FALSE, 0, sl.bytes_up, host, nullptr, &sl.up);
    std::vector<cl::Event> wait{sl.up};
    if (n > 0) {
      if (any_bo)
        enqueue_decode(ctx.compute_queue, *dk, *sl.scratch, layout, sl.in, sl.images, false, n, tiles, &wait,
                       &sl.first, &sl.decoded);
      if (any_bs) {  // after the byte-offset kernels (in-order queue), which wrote none of these frames' pixels
        sl.bs->enqueue(ctx, ctx.compute_queue, *bs_kernel, sl.bs_blocks, sl.in, sl.images, any_bo ? nullptr : &wait,
                       &sl.decoded);
        if (!any_bo) sl.first = sl.decoded;
      }
      enqueue_integrate(sl.images, sl.results, n, &sl.integrated);
      if (any_bo)
        ctx.compute_queue.enqueueReadBuffer(sl.scratch->status, CL_FALSE, 0, size_t(n) * kStatusWords * 4,
                                            sl.status);
      ctx.compute_queue.enqueueReadBuffer(sl.results, CL_FALSE, 0, size_t(n) * bins * kOutWords * 4,
                                          sl.sums, nullptr, &sl.done);
    } else {
      ctx.compute_queue.enqueueMarkerWithWaitList(&wait, &sl.done);
      sl.first = sl.decoded = sl.integrated = sl.done;
    }
    ctx.copy_queue.flush();
    ctx.compute_queue.flush();
    sl.busy = true;
    order.push_back(s.slot_);
    filling = -1;
  }

  void complete(BatchResult& out) {
    if (order.empty()) throw xrd::Error("", "OpenCL engine", "complete() with no batch in flight");
    Slot& sl = slots[size_t(order.front())];
    sl.done.wait();
    const Staging& s = sl.staging;
    out.count = s.count_;
    if (out.frames.size() < size_t(s.count_)) out.frames.resize(size_t(s.count_));
    for (int i = 0; i < s.count_; ++i) {
      const auto& in = s.frames_[size_t(i)];
      auto& fr = out.frames[size_t(i)];
      fr.name = in.name;
      fr.tag = in.tag;
      fr.error.reset();
      const bool bs = in.codec == Payload::bslz4;
      if (bs) {
        fr.decode = {};
        fr.decode.elements = pixels;
        fr.decode.bytes_used = fr.decode.stream_size = in.size;
        fr.decode.elements_expected = pixels;
      } else {
        fr.decode = to_result(&sl.status[size_t(i) * kStatusWords], in.size, sl.specs[size_t(i)].elements);
      }
      if (in.elements != pixels) {
        fr.error = xrd::Error(in.name, "", "frame has " + std::to_string(in.elements) + " elements, the integration "
                              "setup expects " + std::to_string(shape.width) + " x " + std::to_string(shape.height) +
                              " = " + std::to_string(pixels));
      } else if (bs) {
        std::optional<bslz4::StreamError> bad = sl.bs_bad[size_t(i)];
        const uint32_t* st = &sl.bs->status_host[2 * size_t(i)];
        if (!bad && st[0] != 0)
          bad = bslz4_device_error({s.base_ + in.offset, in.size}, pixels, in.type, st[0],
                                   uint32_t(st[1] - (layout.payload_start + in.offset)));
        if (bad) {
          fr.decode.status = byte_offset::DecodeStatus::too_few_elements;
          fr.decode.elements = 0;
          // The words of the CPU decoders' error (frames::decode), so a frame fails alike on either.
          fr.error = xrd::Error(in.name, xrd::Error::at_byte(in.file_offset + bad->offset()),
                                "bad bitshuffle-LZ4 chunk (" + std::to_string(in.size) + " bytes from file byte " +
                                    std::to_string(in.file_offset) + ", " + std::to_string(pixels) + " " +
                                    byte_offset::to_string(in.type) + " elements expected; chunk byte " +
                                    std::to_string(bad->offset()) + "): " + bad->what());
        } else {
          to_pattern(&sl.sums[size_t(i) * bins * kOutWords], fr.pattern);
        }
      } else if (!fr.decode.ok()) {
        fr.error = xrd::Error(in.name, "payload " + xrd::Error::at_byte(fr.decode.error_offset),
                              "byte-offset stream (decoded on " + ctx.info.name + "): " + fr.decode.message());
      } else {
        to_pattern(&sl.sums[size_t(i) * bins * kOutWords], fr.pattern);
      }
    }
    out.h2d_ms = event_ms(sl.up, sl.up);
    out.compute_ms = s.count_ > 0 ? event_ms(sl.first, sl.integrated) : 0.0;
    out.decode_ms = s.count_ > 0 ? event_ms(sl.first, sl.decoded) : 0.0;
    out.integrate_ms = s.count_ > 0 ? event_ms(sl.integrated, sl.integrated) : 0.0;
    out.device_ms = event_ms(sl.up, sl.done);
    out.bytes_up = sl.bytes_up;
    sl.busy = false;
    order.pop_front();
  }

  void integrate_host(std::span<const int32_t> images, int n, std::vector<integration::Pattern>& out) {
    if (n < 0 || images.size() != size_t(n) * pixels)
      throw xrd::Error("", "OpenCL integrate", "got " + std::to_string(images.size()) + " pixels for " +
                                                   std::to_string(n) + " images of " + std::to_string(pixels));
    if (n == 0) return;
    if (size_t(n) > host_capacity) {
      host_images = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, size_t(n) * pixels * 4);
      host_results = cl::Buffer(ctx.context, CL_MEM_WRITE_ONLY, size_t(n) * bins * kOutWords * 4);
      host_capacity = size_t(n);
    }
    host_sums.resize(size_t(n) * bins * kOutWords);
    auto& q = ctx.compute_queue;
    q.enqueueWriteBuffer(host_images, CL_FALSE, 0, images.size_bytes(), images.data());
    enqueue_integrate(host_images, host_results, n, nullptr);
    q.enqueueReadBuffer(host_results, CL_TRUE, 0, host_sums.size() * 4, host_sums.data());
    if (out.size() < size_t(n)) out.resize(size_t(n));
    for (int i = 0; i < n; ++i) to_pattern(&host_sums[size_t(i) * bins * kOutWords], out[size_t(i)]);
  }

  void integrate_bslz4(std::span<const uint8_t> chunk, byte_offset::ElementType t, integration::Pattern& out) {
    if (!bslz4) bslz4 = std::make_unique<Bslz4Decoder>(pub, layout.max_bytes, pixels);
    bslz4->decode(chunk, pixels, t);  // same compute queue: the integration below runs after it
    if (host_capacity < 1) {
      host_images = cl::Buffer(ctx.context, CL_MEM_READ_ONLY, pixels * 4);
      host_results = cl::Buffer(ctx.context, CL_MEM_WRITE_ONLY, size_t(bins) * kOutWords * 4);
      host_capacity = 1;
    }
    host_sums.resize(size_t(bins) * kOutWords);
    enqueue_integrate(detail::bslz4_image(*bslz4), host_results, 1, nullptr);
    ctx.compute_queue.enqueueReadBuffer(host_results, CL_TRUE, 0, host_sums.size() * 4, host_sums.data());
    to_pattern(host_sums.data(), out);
  }
};

Engine::Engine(DeviceContext& ctx, const integration::Setup& setup, size_t max_compressed_bytes, int batch_size,
               EngineOptions opt) {
  try {
    impl_ = std::make_unique<Impl>(ctx, setup, max_compressed_bytes, batch_size, opt);
  } catch (const cl::Error& e) {
    throw to_error(e, "engine on " + ctx.name());
  }
}

Engine::~Engine() = default;

const DeviceContext& Engine::context() const { return impl_->pub; }
int Engine::batch_size() const { return impl_->layout.frames; }
size_t Engine::pixels() const { return impl_->pixels; }
int Engine::in_flight() const { return int(impl_->order.size()); }
int Engine::depth() const { return int(impl_->slots.size()); }

template <typename T>
static byte_offset::DecodeResult engine_decode(Engine::Impl& m, std::span<const uint8_t> payload, std::span<T> out,
                                      byte_offset::ElementType t) {
  if (!m.decoder) m.decoder = std::make_unique<Decoder>(m.pub, m.layout.max_bytes, m.pixels, m.opt);
  return m.decoder->decode(payload, out, t);
}

byte_offset::DecodeResult Engine::decode(std::span<const uint8_t> payload, std::span<int32_t> out, byte_offset::ElementType t) {
  return engine_decode(*impl_, payload, out, t);
}
byte_offset::DecodeResult Engine::decode(std::span<const uint8_t> payload, std::span<float> out, byte_offset::ElementType t) {
  return engine_decode(*impl_, payload, out, t);
}

void Engine::integrate(std::span<const int32_t> image, integration::Pattern& out) {
  thread_local std::vector<integration::Pattern> one(1);
  integrate(image, 1, one);
  std::swap(out, one[0]);
}

void Engine::integrate(std::span<const int32_t> images, int n, std::vector<integration::Pattern>& out) {
  try {
    impl_->integrate_host(images, n, out);
  } catch (const cl::Error& e) {
    throw to_error(e, "integrate on " + impl_->ctx.info.name);
  }
}

void Engine::integrate_bslz4(std::span<const uint8_t> chunk, byte_offset::ElementType t, integration::Pattern& out) {
  try {
    impl_->integrate_bslz4(chunk, t, out);
  } catch (const cl::Error& e) {
    throw to_error(e, "bitshuffle-LZ4 decode + integrate on " + impl_->ctx.info.name);
  }
}

Staging& Engine::staging() { return impl_->staging(); }

void Engine::submit(Staging& s) {
  try {
    impl_->submit(s);
  } catch (const cl::Error& e) {
    throw to_error(e, "submit on " + impl_->ctx.info.name);
  }
}

void Engine::complete(BatchResult& out) {
  try {
    impl_->complete(out);
  } catch (const cl::Error& e) {
    throw to_error(e, "complete on " + impl_->ctx.info.name);
  }
}

namespace {

class OpenClIntegrationEngine : public integration::Engine {
 public:
  OpenClIntegrationEngine(DeviceContext& d, const integration::Setup& s, size_t max_bytes)
      : device_(d.name()), e_(d, s, std::max<size_t>(max_bytes, 1), 1) {}
  std::string name() const override { return "opencl"; }
  std::string variant() const override { return device_; }
  void integrate(std::span<const int32_t> image, integration::Pattern& out, Workspace*) const override {
    e_.integrate(image, out);
  }
  bool concurrent() const override { return false; }

 private:
  std::string device_;
  mutable ocl::Engine e_;  // its buffers change with every frame: callers serialize (concurrent() is false)
};

}  // namespace

std::unique_ptr<integration::Engine> make_opencl_engine(const integration::Setup& setup,
                                                        const integration::EngineConfig& config) {
  if (!config.device) throw Error("", "", "the opencl engine needs an OpenCL device (--device opencl...)");
  if (!config.variant.empty())
    throw std::invalid_argument("the opencl engine has no variant '" + config.variant + "'");
  return std::make_unique<OpenClIntegrationEngine>(*config.device, setup, config.max_frame_bytes);
}

}  // namespace xrd::ocl
