// The synthetic Pilatus3 2M generator: powder-diffraction frames of a sample scan (a sinogram through a three-phase
// phantom), deterministic from a seed whatever the thread count, plus the matching PONI geometry and mask.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/detectors.hpp"

namespace xrd::synth {

// Pilatus3 2M layout (shared/paper/facts.md): 3 x 8 modules of 487 x 195 px, 7-px gaps between module columns,
// 17-px gaps between module rows. Gap pixels read -1.
inline constexpr size_t kWidth = 1475, kHeight = 1679;
inline constexpr size_t kModuleW = 487, kModuleH = 195, kGapX = 7, kGapY = 17, kModuleCols = 3, kModuleRows = 8;
inline constexpr size_t kPixels = kWidth * kHeight;
inline constexpr size_t kGapPixels = kPixels - kModuleCols * kModuleRows * kModuleW * kModuleH;  // 197365
inline constexpr double kPixelSize = 172e-6;  // metres

// True when pixel (x = fast/column, y = slow/row) lies in a gap between modules.
constexpr bool is_gap_column(size_t x) { return x % (kModuleW + kGapX) >= kModuleW; }
constexpr bool is_gap_row(size_t y) { return y % (kModuleH + kGapY) >= kModuleH; }
constexpr bool is_gap(size_t x, size_t y) { return is_gap_column(x) || is_gap_row(y); }

// Mask codes in mask.cbf (nonzero = masked).
inline constexpr int32_t kMaskGap = 1, kMaskDead = 2, kMaskHot = 4;
inline constexpr int32_t kDeadValue = -2, kGapValue = -1;
inline constexpr int32_t kHotMin = (1 << 20) + 1;  // hot pixels read above 2^20 (32-bit byte-offset escapes)

inline constexpr const char* kGeneratorName = "xrdbench-synth";
inline constexpr int kGeneratorVersion = 1;  // bump when the bytes a seed produces change

// The detector the frames are drawn for: shape, pixel size, a regular grid of modules with gap pixels between them
// (gap pixels read kGapValue and are masked). Default: the Pilatus3 2M above; detectors::layout_of() gives any
// preset's (synth_detector.cpp).
struct Layout {
  std::string detector = "PILATUS3 2M";  // written into the CBF headers
  size_t width = kWidth, height = kHeight;
  size_t module_w = kModuleW, module_h = kModuleH, gap_x = kGapX, gap_y = kGapY;
  double pixel_size = kPixelSize;  // metres
  int bit_depth = 20;              // the counter's bits: the header's Count_cutoff is 2^bits - 2

  size_t pixels() const { return width * height; }
  bool gap_column(size_t x) const { return x % (module_w + gap_x) >= module_w; }
  bool gap_row(size_t y) const { return y % (module_h + gap_y) >= module_h; }
  bool is_gap(size_t x, size_t y) const { return gap_column(x) || gap_row(y); }
};

struct Params {
  uint64_t seed = 1234;
  Layout layout;  // the detector's shape and gaps (default Pilatus3 2M)
  size_t frames = 1;  // the scan's length: the phase fractions of frame i depend on (i, frames) only via the raster
  // Geometry (pyFAI conventions; metres, radians): PONI inside a module near the detector centre, small tilts.
  double distance = 0.35;
  double poni1 = 0.1535;  // slow axis (y): ~892 px, in module row 4
  double poni2 = 0.1276;  // fast axis (x): ~742 px, in the middle module column
  double rot1 = 0.0012, rot2 = -0.0008, rot3 = 0.0;
  double wavelength = 0.7e-10;  // 17.7 keV
  // Counts (tuned so a frame is ~2.5 MB, ~1.02 bytes/pixel, like the peers' make_dataset.py and real 2M frames).
  double air_level = 38.0;        // air scattering at small angle (counts)
  double amorphous_level = 14.0;  // amorphous hump, scaled by the sample thickness the beam crosses
  double ring_level = 6000.0;     // peak height of a phase's strongest ring (pure phase, reference width)
  int dead_pixels = 25;
  int hot_pixels = 40;
  // Scan: a raster of `scan_steps` translations per line, lines at successive rotation angles over 180 degrees.
  size_t scan_steps = 41;
  double exposure_s = 0.004;  // 250 frames/s
};

// One reflection family of a cubic phase: all (hkl) with h^2+k^2+l^2 = s share one d-spacing.
struct Reflection {
  int s = 0;             // h^2 + k^2 + l^2
  std::string hkl;       // a representative, e.g. "111"
  double d = 0;          // Angstrom
  double tth = 0;        // radians
  double weight = 0;     // relative peak intensity in the phase (strongest = 1)
};

struct Phase {
  std::string name;       // "LaB6", "CeO2", "Al"
  std::string structure;  // "Pm-3m", "Fm-3m (fluorite)", "Fm-3m (fcc)"
  double a = 0;           // lattice parameter, Angstrom
  double scale = 1;       // relative brightness of the phase
  double texture = 0;     // amplitude of the cos(2 chi) azimuthal texture
  std::vector<Reflection> reflections;  // those on the detector, by increasing 2theta
};

// What varies from frame to frame: the scan position and what the beam sees there.
struct FrameInfo {
  size_t index = 0;
  size_t scan_line = 0, scan_step = 0;
  double angle_deg = 0;     // sample rotation
  double translation = 0;   // beam position across the sample, in sample radii (-0.8 .. 0.8)
  std::array<double, 3> fraction{};        // per phase: chord length through it / sample diameter
  std::array<double, 3> crystallite_nm{};  // per phase: crystallite size (size broadening of the rings)
  std::array<double, 3> microstrain{};     // per phase: microstrain (strain broadening, grows with 2theta)
  double thickness = 0;                    // total chord / sample diameter (amorphous background)
};

// `base` drawn on detector `d`: its layout, one frame period of exposure (1 / nominal rate), and the geometry moved
// to it: the PONI inside a module near the detector's centre, the distance scaled with the detector's width so the
// rings cover the same 2theta range. pilatus3-2m leaves the default geometry (the same bytes as without --detector).
Params for_detector(const detectors::Detector& d, Params base = {});

// pyFAI PONI (version 2) text of the geometry in `p` (the one the rings are drawn with).
std::string poni_text(const Params& p);

// Byte-offset encoding statistics of one image: how many deltas take 1, 3, 7 or 15 bytes.
struct ByteOffsetStats {
  size_t n1 = 0, n3 = 0, n7 = 0, n15 = 0;
  size_t bytes() const { return n1 + 3 * n3 + 7 * n7 + 15 * n15; }
  size_t count() const { return n1 + n3 + n7 + n15; }
};
ByteOffsetStats byte_offset_stats(std::span<const int32_t> image);

// Per-thread buffers reused between frames (the per-frame radial profile tables).
struct FrameScratch {
  std::vector<float> table;
};

// Everything that does not change between frames: per-pixel geometry, defects, phases. Build once, then call
// frame() from any number of threads.
class Generator {
 public:
  // threads: workers for the per-pixel geometry tables (the result does not depend on it).
  explicit Generator(const Params& p, int threads = 1);

  const Params& params() const { return p_; }
  const std::vector<Phase>& phases() const { return phases_; }
  double tth_max() const { return tth_max_; }

  // Frame i (0 <= i < params().frames) into `out` (layout.pixels() int32, row-major). Thread-safe.
  void frame(size_t i, std::span<int32_t> out, FrameScratch& scratch) const;
  std::vector<int32_t> frame(size_t i) const;

  FrameInfo frame_info(size_t i) const;
  // The CBF mini-header of frame i (timestamp, exposure, wavelength, distance, beam centre, scan position).
  cbf::PilatusHeader header(size_t i) const;

  // Mask image: 0 = good, kMaskGap | kMaskDead | kMaskHot otherwise.
  const std::vector<int32_t>& mask() const { return mask_; }
  const std::vector<uint32_t>& dead_pixels() const { return dead_; }  // pixel indices (row-major)
  const std::vector<uint32_t>& hot_pixels() const { return hot_; }

  std::string poni_text() const { return synth::poni_text(p_); }

  // 2theta (radians) of pixel (x, y) centre, pyFAI's formula (for tests and the manifest).
  double tth(size_t x, size_t y) const;
  // Where the direct beam hits the detector, in pixels (x fast, y slow), edge-based like pyFAI's Fit2D centre.
  std::array<double, 2> beam_centre_px() const;

 private:
  struct PixelGeo {
    float pos;  // 2theta in table cells
    float sa;   // relative solid angle
    float c2;   // cos(2 chi)
    float s2;   // sin(2 chi)
  };
  void build_tables(size_t i, std::vector<float>& table) const;

  Params p_;
  std::vector<Phase> phases_;
  double tth_max_ = 0;
  std::vector<PixelGeo> geo_;
  std::vector<int32_t> mask_;
  std::vector<uint32_t> dead_, hot_;
};

// Pieces exposed for tests and benchmarks.
namespace detail {
// Counter-based 64-bit mixer (SplitMix64 finaliser): the same inputs give the same bits on every thread.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
// Key of a stream (seed, a, b): e.g. (seed, frame, row).
constexpr uint64_t stream_key(uint64_t seed, uint64_t a, uint64_t b) {
  return mix64(mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (a + 0x632be59bd9b4e019ULL)) ^
               (b + 0x85157af5d5b5a1c3ULL));
}
// Uniform in (0, 1) from 64 random bits.
inline double to_open01(uint64_t r) { return (double(r >> 11) + 0.5) * 0x1.0p-53; }
// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double u);
// A Poisson(lambda) sample from 64 random bits, by inversion. lambda < kPoissonTableMax: tabulated CDFs on a
// lambda grid of step 1/32, the grid point chosen at random between the two neighbours of lambda so that the mean
// stays exact (a mixture of Poissons 1/32 apart: variance larger by at most 1/4096). Above: the Cornish-Fisher
// normal approximation (skew-corrected) with the normal quantile tabulated on 65536 equiprobable cells.
inline constexpr double kPoissonTableMax = 16.0;
int32_t poisson(double lambda, uint64_t bits);
}  // namespace detail

}  // namespace xrd::synth
