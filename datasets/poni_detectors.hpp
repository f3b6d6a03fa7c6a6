// pyFAI's named detectors that xrdbench knows (the presets it supports): pixel size and shape, looked up by any of
// the names pyFAI's detector factory accepts for them.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace xrd::poni {

struct DetectorSpec {
  const char* name;  // pyFAI's class name (what pyFAI writes on the PONI's Detector line)
  double pixel1, pixel2;  // metres (slow, fast)
  size_t height, width;   // pyFAI's MAX_SHAPE (rows, columns)
};

// The detector pyFAI's factory would build for `name`: the class name or an alias, case-insensitive, spaces
// allowed where pyFAI has '_' or nothing ("Pilatus2M", "pilatus 2m", "Eiger2 4M", "eiger2_4m", "Pilatus4 2M").
// Empty when xrdbench does not know it.
std::optional<DetectorSpec> find_detector(std::string_view name);

// The names find_detector knows, for messages: "Pilatus1M, Pilatus2M, ...".
std::string known_detector_names();

}  // namespace xrd::poni
