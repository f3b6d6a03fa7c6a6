// Detector presets: the shape, pixel size, module layout (gaps), bit depth and nominal frame rate of the detectors
// xrdbench is asked about (docs/detectors.md names the source of every number). `realtime --detector NAME` takes its
// frame rate; `dataset synth --detector NAME` writes frames of its shape and gaps (synth::Layout).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace xrd::detectors {

struct Detector {
  std::string name;           // "pilatus3-2m": what --detector takes
  std::string label;          // "PILATUS3 2M"
  std::string maker;          // "DECTRIS" | "PSI"
  size_t width = 0, height = 0;         // pixels (fast x slow), gaps included
  double pixel_size_m = 0;
  size_t module_w = 0, module_h = 0;    // one module's pixels
  size_t gap_x = 0, gap_y = 0;          // gap pixels between module columns / rows
  size_t module_cols = 0, module_rows = 0;
  int bit_depth = 0;                    // bits per pixel the detector delivers (counter or ADC+gain)
  double frame_rate_hz = 0;             // nominal full-frame rate at that depth
  std::string source;                   // where the numbers come from (short; docs/detectors.md has the detail)

  size_t pixels() const { return width * height; }
  size_t gap_pixels() const { return pixels() - module_cols * module_rows * module_w * module_h; }
  // Whether pixel column x / row y lies in a gap between modules.
  bool gap_column(size_t x) const { return x % (module_w + gap_x) >= module_w; }
  bool gap_row(size_t y) const { return y % (module_h + gap_y) >= module_h; }
};

// Every preset, in the order the docs list them.
const std::vector<Detector>& all();
// The preset of that name (case-insensitive; "_" and " " read as "-"). Throws xrd::Error listing the known names.
const Detector& find(const std::string& name);
// "pilatus3-2m, pilatus4-2m, ..." (for messages and --help).
std::string known_names();

}  // namespace xrd::detectors
