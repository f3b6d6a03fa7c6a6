// Where the micro-benchmarks find the real Pilatus3 2M frame they measure: base/data_paths.hpp's rule, as the tests
// ($XRD_SHARED_DIR when set, the device bundle sets it; else the shared/ folder CMake was given).
#pragma once
#include <filesystem>

#include "base/data_paths.hpp"

namespace xrd::bench {

inline std::filesystem::path fixtures_dir() { return paths::fixtures_dir(); }

inline std::filesystem::path real_lab6_frame() {
  return fixtures_dir() / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
}

}  // namespace xrd::bench
