// Where xrdbench finds its data. The shared/ folder (fixtures, paper values): $XRD_SHARED_DIR when set, else the folder
// CMake was given (XRD_SHARED_DIR cache variable), the one rule for the tests, the micro-benchmarks and the device
// bundle. The installed binary's own data: relative to the binary (cmake --install puts the report scripts and the
// paper's table in <prefix>/share/xrdbench beside <prefix>/bin).
#pragma once
#include <filesystem>

namespace xrd::paths {

// $XRD_SHARED_DIR when set and not empty, else the shared/ folder CMake was configured with. Not checked.
std::filesystem::path shared_dir();

// shared_dir() / "fixtures"; throws xrd::Error naming the folder (and XRD_SHARED_DIR) when it does not exist.
std::filesystem::path fixtures_dir();

// The folder of the running executable (/proc/self/exe), empty when unknown.
std::filesystem::path exe_dir();

// <exe dir>/../share/xrdbench when that folder exists (an installed xrdbench), else empty. An installed binary
// uses it alone: it never falls back to the source tree it was built from.
std::filesystem::path installed_data_dir();

}  // namespace xrd::paths
