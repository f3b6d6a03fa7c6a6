// Where the micro-benchmarks find the real Pilatus3 2M frame they measure: $XRD_SHARED_DIR when set (as the tests:
// the environment wins; the device bundle sets it), else the shared/ folder CMake was given.
#pragma once
#include <cstdlib>
#include <filesystem>

namespace xrd::bench {

inline std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("XRD_SHARED_DIR");
  return std::filesystem::path(env && *env ? env : XRD_SHARED_DIR) / "fixtures";
}

inline std::filesystem::path real_lab6_frame() {
  return fixtures_dir() / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf";
}

}  // namespace xrd::bench
