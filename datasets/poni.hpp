// pyFAI PONI files (versions 1, 2 and 2.1) -> integration::Geometry.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "kernels/integrate.hpp"

namespace xrd::poni {

// Parses a PONI file's text as pyFAI does (versions 1, 2 and 2.1): "Key: value" lines, '#' comments, keys
// case-insensitive: Distance, Poni1, Poni2, Rot1-3, Wavelength, Detector, Detector_config (JSON: pixel1, pixel2,
// max_shape, orientation 1-4), PixelSize1/2 and SplineFile (version 1), poni_version. A file may hold several
// calibrations one after the other: the last value of each key counts. Detector is "Detector" (pixel sizes
// given) or one of pyFAI's names for the presets (datasets/poni_detectors.hpp), which sets the pixel size and
// the detector's shape. What xrdbench cannot honour (an unknown detector, a spline or offset distortion file,
// an unknown Detector_config key, an orientation outside 0-4) is refused. Throws xrd::Error naming `path`, the
// line and what was expected.
integration::Geometry parse(std::string_view text, const std::string& path = "");
integration::Geometry read(const std::filesystem::path& p);

// The geometry as a PONI file pyFAI reads: version 2 (what Debian 12's pyFAI 0.21 reads), 2.1 when the
// orientation is not the default 3. The detector is written as Detector with its pixel sizes and shape.
std::string format(const integration::Geometry& g);

}  // namespace xrd::poni
