// pyFAI PONI files (versions 1 and 2) -> integ::Geometry.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "kernels/integrate.hpp"

namespace xrd::poni {

// Parses a PONI file's text: "Key: value" lines, '#' comments. Keys (case-insensitive): Distance, Poni1,
// Poni2, Rot1, Rot2, Rot3, Wavelength, Detector, Detector_config (version 2: JSON with pixel1, pixel2),
// PixelSize1/PixelSize2 (version 1), poni_version. A file may hold several calibrations one after the other:
// the last value of each key counts, as in pyFAI. Distance, Poni1 and Poni2 are required, pixel sizes default
// to the Pilatus 172 um only when the detector names a Pilatus. Throws xrd::Error naming `path`, the line and
// what was expected.
integ::Geometry parse(std::string_view text, const std::string& path = "");
integ::Geometry read(const std::filesystem::path& p);

// The geometry as a version 2 PONI file (readable by pyFAI).
std::string format(const integ::Geometry& g);

}  // namespace xrd::poni
