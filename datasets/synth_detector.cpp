// synth::for_detector: the synthetic generator's parameters for a detector preset (datasets/detectors.hpp).
#include <cmath>

#include "datasets/synth.hpp"

namespace xrd::synth {

// The pixel nearest `target` along one axis that lies inside a module, a few pixels in from its edge.
static size_t inside_module(size_t target, size_t module, size_t gap, size_t extent) {
  const size_t pitch = module + gap, m = target / pitch, in = target % pitch;
  size_t p = target;
  if (in >= module) p = m * pitch + module - 3;  // in a gap: step back into the module
  if (in < 3) p = m * pitch + 3;
  return std::min(p, extent - 1);
}

Params for_detector(const detectors::Detector& d, Params base) {
  Layout& l = base.layout;
  l.detector = d.label;
  l.bit_depth = d.bit_depth;
  base.exposure_s = 1.0 / d.frame_rate_hz;
  if (d.name == "pilatus3-2m") return base;  // the default layout and geometry already are this detector's
  l.width = d.width;
  l.height = d.height;
  l.module_w = d.module_w;
  l.module_h = d.module_h;
  l.gap_x = d.gap_x;
  l.gap_y = d.gap_y;
  l.pixel_size = d.pixel_size_m;
  // The default PONI sits at 50.3% of the width, 53.1% of the height of the Pilatus3 2M, inside a module.
  const size_t x = inside_module(size_t(0.503 * double(d.width)), d.module_w, d.gap_x, d.width);
  const size_t y = inside_module(size_t(0.531 * double(d.height)), d.module_h, d.gap_y, d.height);
  base.poni2 = (double(x) + 0.3) * d.pixel_size_m;
  base.poni1 = (double(y) + 0.7) * d.pixel_size_m;
  base.distance = 0.35 * (double(d.width) * d.pixel_size_m) / (double(kWidth) * kPixelSize);
  return base;
}

}  // namespace xrd::synth
