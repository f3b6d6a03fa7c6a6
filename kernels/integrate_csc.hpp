// The pixel-major engine (CSC): per pixel, in image order, a 16-bit code (first bin and how many bins) and
// one float per extra bin of a split pixel; everything that does not depend on the frame (sum of weights, of
// weight * normalisation, of weight * dark) summed once at construction; per frame only the signal and
// variance sums are scattered into the bins, and the few pixels negative in this frame are subtracted again.
// Streams the image in the order a decoder produces it, pixel by pixel. Tried as the fast engine and kept for
// comparison: its scatter costs ~40 instructions per split pixel, where FastIntegrator's gathers cost ~3 per
// matrix entry (see bench_integrate). Same interface and results as FastIntegrator.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/integrate.hpp"
#include "kernels/integrate_fast.hpp"
#include "kernels/integrate_sums.hpp"

namespace xrd::integration {

class CscIntegrator {
 public:
  // Builds the compact layout from setup's matrix (threads: 0 = every core). Keeps no reference to `setup`.
  explicit CscIntegrator(const Setup& setup, int threads = 0);

  int bins() const { return bins_; }
  size_t pixels() const { return pixels_; }
  double build_seconds() const {
    return build_seconds_;
  }                                          // cost of the layout (on top of Setup::build_seconds)
  size_t layout_bytes() const;               // memory the per-frame loop streams, besides the image
  bool compact() const { return compact_; }  // false: too many bins for 16-bit codes, plain CSC used

  // Per-thread (or per-block) sums, as FastIntegrator's.
  using Accumulator = FastIntegrator::Accumulator;
  Accumulator make_accumulator() const;

  // Adds pixels [first, first + values.size()) of one frame (`values` are those pixels, in image order) to
  // `acc`. Thread-safe (const); blocks may come in any order and be of any size (a decoder's rows, a strip of
  // a frame).
  void accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const;
  // Turns the sums of a whole frame into a pattern.
  void finish(const Accumulator& acc, Pattern& out) const;

  // A whole frame, in parallel (oneTBB, in the caller's arena). `ws` holds one accumulator per block, reused.
  struct Workspace {
    std::vector<Accumulator> blocks;
    Accumulator total;
  };
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace& ws) const;
  void integrate(std::span<const int32_t> image, Pattern& out) const;  // allocates a workspace (convenience)

  static constexpr size_t kBlock = 1 << 16;  // pixels per parallel block (and per offset entry)

 private:
  void accumulate_compact(size_t first, std::span<const int32_t> values, Accumulator& acc) const;
  void accumulate_csc(size_t first, std::span<const int32_t> values, Accumulator& acc) const;
  void mask_pixel(size_t p, std::span<const int32_t> bins, std::span<const float> w, Accumulator& acc) const;

  StaticSums sums_;  // what does not depend on the frame
  int bins_ = 0;
  size_t pixels_ = 0;
  bool compact_ = true;
  double build_seconds_ = 0;
  // Compact layout: per pixel a code (0xFFFF: not in the matrix; 0xFFFE: irregular, see below; else
  // bin = code & 0xFFF, k = code >> 12: the pixel spans bins bin..bin+k; k = 0 means weight 1, else k weights
  // are stored in `weights_` (in pixel order) and the last bin gets 1 - their sum).
  std::vector<uint16_t> code_;
  std::vector<float> weights_;
  std::vector<uint32_t> block_offset_;  // index in weights_ of the first weight of each kBlock pixels
  size_t width_ = 0;
  std::vector<int> row_lo_, row_hi_;  // per image row, the bins its regular pixels may touch
  // Irregular pixels (weights not summing to 1, more than 16 bins), and the whole matrix when !compact_.
  std::vector<uint32_t> irr_pixel_;  // sorted
  std::vector<int32_t> irr_ptr_, irr_bin_;
  std::vector<float> irr_w_;
};

}  // namespace xrd::integration
