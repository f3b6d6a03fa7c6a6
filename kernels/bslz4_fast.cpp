// The fast bitshuffle-LZ4 decoder: liblz4 per block, the best unshuffle kernel for this CPU (chosen once at run time,
// or by name), blocks decoded in parallel on request; 4-byte elements decoded to int32 are unshuffled straight into
// the caller's buffer, other types through a per-thread block buffer.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>

#include "kernels/bslz4.hpp"
#include "kernels/bslz4_detail.hpp"
#include "kernels/bslz4_kernels.hpp"

namespace xrd::bslz4 {

namespace {

bool always() { return true; }
void unshuffle_portable(const uint8_t* in, size_t n, size_t s, uint8_t* out) {
  detail::unshuffle_columns(in, n, s, 0, n / 8, out);
}

const Kernel kKernels[] = {
    {"avx512", simd::avx512_supported, simd::avx512_unshuffle},
    {"avx2", simd::avx2_supported, simd::avx2_unshuffle},
    {"scalar", always, unshuffle_portable},
};

struct Scratch {
  std::vector<uint8_t> block, bytes;
};

// Decodes blocks [b0, b1) of the chunk. Out = uint8_t: element bytes; int32_t / float: values.
template <class Out>
void decode_blocks(std::span<const uint8_t> chunk, const Layout& l, const std::vector<detail::BlockRef>& refs,
                   size_t b0, size_t b1, Out* out, byte_offset::ElementType t, const Kernel& k) {
  thread_local Scratch s;
  const size_t es = l.elem_size;
  const size_t block_bytes = std::min(l.block_elements, l.elements) * es;  // never more than the output
  if (s.block.size() < block_bytes) s.block.resize(block_bytes);
  constexpr bool direct_bytes = std::is_same_v<Out, uint8_t>;
  const bool direct_i32 = std::is_same_v<Out, int32_t> && es == 4;
  if (!direct_bytes && !direct_i32 && s.bytes.size() < block_bytes) s.bytes.resize(block_bytes);
  for (size_t b = b0; b < b1; ++b) {
    const auto& r = refs[b];
    const size_t n = r.expected / es;
    detail::decode_block_lz4(chunk, r, s.block.data());
    if constexpr (direct_bytes) {
      k.unshuffle(s.block.data(), n, es, out + r.first * es);
    } else {
      if (direct_i32) {
        k.unshuffle(s.block.data(), n, es, reinterpret_cast<uint8_t*>(out + r.first));
      } else {
        k.unshuffle(s.block.data(), n, es, s.bytes.data());
        detail::convert(s.bytes.data(), n, t, out + r.first);
      }
    }
  }
}

template <class Out>
void run(std::span<const uint8_t> chunk, Out* out, size_t elements, size_t es, byte_offset::ElementType t, int threads,
         const Kernel* kernel) {
  const Kernel& k = kernel ? *kernel : fast_kernel();
  const Layout l = parse_header(chunk, es, elements);
  const auto refs = detail::walk_blocks(chunk, l);
  if (threads > 1 && refs.size() > 1) {
    tbb::task_arena arena(threads);
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, refs.size(), 4), [&](const tbb::blocked_range<size_t>& r) {
        decode_blocks(chunk, l, refs, r.begin(), r.end(), out, t, k);
      });
    });
  } else {
    decode_blocks(chunk, l, refs, 0, refs.size(), out, t, k);
  }
  const size_t raw = l.leftover_elements * es;
  if (!raw) return;
  const uint8_t* tail = chunk.data() + chunk.size() - raw;
  const size_t first = l.elements - l.leftover_elements;
  if constexpr (std::is_same_v<Out, uint8_t>)
    std::memcpy(out + first * es, tail, raw);
  else
    detail::convert(tail, l.leftover_elements, t, out + first);
}

}  // namespace

std::span<const Kernel> kernels() { return kKernels; }

const Kernel& fast_kernel() {
  static const Kernel& k = []() -> const Kernel& {
    for (const auto& c : kKernels)
      if (c.supported()) return c;
    return kKernels[std::size(kKernels) - 1];
  }();
  return k;
}

const Kernel* find_kernel(const std::string& name) {
  for (const auto& c : kKernels)
    if (name == c.name) return &c;
  return nullptr;
}

void decode(std::span<const uint8_t> chunk, std::span<int32_t> out, byte_offset::ElementType t, int threads,
            const Kernel* kernel) {
  run(chunk, out.data(), out.size(), element_size(t), t, threads, kernel);
}
void decode(std::span<const uint8_t> chunk, std::span<float> out, byte_offset::ElementType t, int threads,
            const Kernel* kernel) {
  run(chunk, out.data(), out.size(), element_size(t), t, threads, kernel);
}
void decode(std::span<const uint8_t> chunk, std::span<uint8_t> out, size_t es, int threads, const Kernel* kernel) {
  if (es == 0 || out.size() % es != 0)
    throw StreamError(0, "output of " + std::to_string(out.size()) + " bytes is not whole elements of " +
                             std::to_string(es) + " bytes");
  run(chunk, out.data(), out.size() / es, es, byte_offset::ElementType::u8, threads, kernel);
}

}  // namespace xrd::bslz4
