// The fast CPU engine. The image is cut into strips of kBlock consecutive pixels (the order a decoder
// produces them); per strip, the matrix is stored bin by bin: for each bin the strip touches, the 16-bit
// offsets in the strip of its pixels, those of weight 1 first (no weight stored), then the split ones with
// their float weights. Per frame, each (strip, bin) segment gathers its pixels (AVX2 gathers where the CPU
// has them) and sums w * v and w^2 * max(v, 1) in registers: no scatter, no conflicts, ~3 instructions per
// matrix entry. What does not depend on the frame (sum of weights, of weight * normalisation, of weight *
// dark) is summed once at construction; the few pixels negative in a frame are subtracted again. Strips are
// independent: a frame is integrated in parallel (oneTBB) and a decoder's blocks can be integrated as they
// come (accumulate()). Agrees with the reference engine (integrate()) to double rounding: same weights, sums
// in another order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::integration {

class StaticSums;

class FastIntegrator {
 public:
  // The loop that sums a segment: AVX2 gathers (fastest on Intel cores), or scalar loads into four
  // independent sums (fastest where gathers are slow, as on AMD Zen). `automatic` times both once per
  // process, on a synthetic strip, and keeps the faster; `gather` falls back to scalar on a CPU without AVX2.
  enum class Kernel { automatic, gather, scalar };

  // Builds the layout from setup's matrix (threads: 0 = every core). Keeps no reference to `setup`.
  explicit FastIntegrator(const Setup& setup, int threads = 0, Kernel kernel = Kernel::automatic);
  ~FastIntegrator();
  FastIntegrator(FastIntegrator&&) noexcept;

  int bins() const { return bins_; }
  size_t pixels() const { return pixels_; }
  double build_seconds() const {
    return build_seconds_;
  }                             // cost of the layout (on top of Setup::build_seconds)
  size_t layout_bytes() const;  // memory the per-frame loop streams, besides the image
  const char* kernel() const;   // "avx2-gather" or "scalar": the gather loop in use

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
  // `acc`. Thread-safe (const); blocks may come in any order and be of any size. Blocks that are whole strips
  // (first a multiple of kBlock, kBlock pixels or up to the end) are the fast path; others are cut out of
  // their strips with binary searches.
  void accumulate(size_t first, std::span<const int32_t> values, Accumulator& acc) const;
  // Turns the sums of a whole frame into a pattern.
  void finish(const Accumulator& acc, Pattern& out) const;

  // A whole frame, in parallel (oneTBB, in the caller's arena); `ws` is reused from frame to frame.
  struct Masked {
    int32_t bin;
    uint32_t pixel;
    float w;
  };
  struct Workspace {
    std::vector<double> segments;             // 2 per segment: this frame's sums
    std::vector<std::vector<Masked>> masked;  // per strip: entries whose pixel is negative in this frame
    Accumulator total;
  };
  void integrate(std::span<const int32_t> image, Pattern& out, Workspace& ws) const;
  void integrate(std::span<const int32_t> image, Pattern& out) const;  // allocates a workspace (convenience)

  static constexpr size_t kBlock =
      1 << 16;  // pixels per strip (16-bit offsets): decode in blocks of this size

 private:
  struct Segment {
    int32_t bin;
    uint32_t begin, mid, end;  // entries [begin, mid) of weight 1, [mid, end) split
    uint32_t wbegin;           // index in weights_ of entry `mid`'s weight
  };
  // Sums one segment's entries whose strip offset lies in [lo, hi), `base` pointing at offset lo's value.
  void segment_sums(const Segment& g, const int32_t* base, uint32_t lo, uint32_t hi, bool whole, size_t strip,
                    double& s, double& v, std::vector<Masked>& masked) const;
  // Kernel::automatic: whether the gather loop beats the scalar one on this matrix (timed on some of its strips).
  bool gathers_win();

  std::unique_ptr<StaticSums> sums_;  // what does not depend on the frame
  int bins_ = 0;
  size_t pixels_ = 0;
  double build_seconds_ = 0;
  bool gather_ = false;
  std::vector<uint32_t> strip_seg_;  // strips + 1: first segment of each strip
  std::vector<Segment> segments_;
  std::vector<uint16_t> offsets_;  // per entry: pixel offset in its strip
  std::vector<float> weights_;     // per split entry
};

}  // namespace xrd::integration
