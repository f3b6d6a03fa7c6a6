// The fast CPU engine: pixel-major (it streams the image in the order a decoder produces it), compact (16
// bits per pixel plus one float per extra bin of a split pixel), with everything that does not depend on the
// frame (sum of weights, of weight * normalisation, of weight * dark) summed once at construction; per frame
// only the signal and variance sums are accumulated, and the few pixels negative in this frame are subtracted
// again. Parallel with oneTBB over fixed blocks of pixels, merged in block order: the result does not depend
// on the number of threads. Agrees with the reference engine (integrate()) to double rounding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::integ {

class FastIntegrator {
 public:
  // Builds the compact layout from setup's matrix (threads: 0 = every core). Keeps no reference to `setup`.
  explicit FastIntegrator(const Setup& setup, int threads = 0);

  int bins() const { return bins_; }
  size_t pixels() const { return pixels_; }
  double build_seconds() const {
    return build_seconds_;
  }                                          // cost of the layout (on top of Setup::build_seconds)
  size_t layout_bytes() const;               // memory the per-frame loop streams, besides the image
  bool compact() const { return compact_; }  // false: too many bins for 16-bit codes, plain CSC used

  // Per-thread (or per-block) sums, owned by the caller and reused from frame to frame.
  struct Accumulator {
    std::vector<double> sv;  // 2 per bin: sum w*v, sum w^2*max(v,1)
    std::vector<double>
        masked;               // 4 per bin: entries, w, w*norm, w*dark of pixels masked in this frame (v < 0)
    bool any_masked = false;  // whether `masked` holds anything (it is cleared only then)
    void clear();
    void add(const Accumulator& o);
  };
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

  int bins_ = 0;
  size_t pixels_ = 0;
  bool compact_ = true;
  double build_seconds_ = 0;
  std::vector<double> radial_;
  // Static sums per bin over every pixel of the matrix.
  std::vector<double> count_, norm_sum_, dark_sum_;
  std::vector<double> entries_;     // matrix entries per bin (a bin whose entries are all masked is empty)
  std::vector<float> norm_, dark_;  // per pixel (for the pixels masked in a frame)
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

}  // namespace xrd::integ
