// Building the integration matrix (bins x pixels, CSR) from pixel positions, with pyFAI 0.21's rules for the
// automatic radial range and for pixel splitting ("no", "bbox", "full"); and its pixel-major transpose (CSC).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::integration {

// Where the pixels are, in a unit's internal representation (see geometry.hpp), for one splitting scheme.
struct PixelPositions {
  size_t width = 0, height = 0;
  Split split = Split::bbox;
  std::vector<double> centre;                    // none, bbox: radial position of each pixel centre
  std::vector<double> delta;                     // bbox: max |corner - centre| over the 4 corners
  std::vector<float> corner_radial, corner_chi;  // full: (height+1) x (width+1) corner grid
};
// Computes the positions `split` needs (threads: 0 = every core).
PixelPositions pixel_positions(const Geometry& g, size_t width, size_t height, Unit u, Split split,
                               int threads = 0);

// The bins' range in internal units, named as in pyFAI: bins cover [min, max), max =
// calc_upper_bound(max_in).
struct RadialRange {
  double min = 0, max_in = 0, max = 0;
  double delta() const;  // bin width: (max - min) / bins, given bins
  int bins = 0;
};
// pyFAI's automatic rule over the pixels not excluded (excluded[p] != 0): min and max of the pixel centres
// (no split), of centre -/+ delta (bbox) or of the corners (full); min and max clipped at 0 (radial positions
// are not negative); max_in nudged up by one float32 epsilon so the pixel at the maximum falls in the last
// bin. A given bound (internal units) replaces the automatic one; the nudge applies to a given maximum too,
// as in pyFAI.
RadialRange radial_range(const PixelPositions& pos, std::span<const uint8_t> excluded, int bins,
                         std::optional<double> min, std::optional<double> max, int threads = 0);

// Builds the matrix: row b lists the non-excluded pixels that overlap bin b, in increasing pixel order, with
// the fraction of the pixel in the bin (float32). A pixel's fractions sum to 1 (its last one is stored as
// float(1 - sum of the others, in double, in bin order), which an engine can rely on to derive it). Identical
// whatever the thread count. Sets bins, width, height,
// row_ptr, col, val and split; the caller sets unit and radial centres.
Csr build_csr(const PixelPositions& pos, std::span<const uint8_t> excluded, const RadialRange& range,
              int threads = 0);

// The same matrix, pixel-major: column p lists the bins pixel p touches (increasing) and the weights.
struct Csc {
  int bins = 0;
  size_t pixels = 0;
  std::vector<int32_t> col_ptr;  // pixels + 1
  std::vector<int32_t> row;      // bin index, nnz
  std::vector<float> val;        // weight, nnz
  size_t nnz() const { return row.size(); }
};
Csc to_csc(const Csr& csr, int threads = 0);

}  // namespace xrd::integration
