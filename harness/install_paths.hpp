// Where the running xrdbench finds its data: relative to its own binary when installed (cmake --install puts the
// report scripts and the paper's table in <prefix>/share/xrdbench beside <prefix>/bin), else the source tree.
#pragma once
#include <filesystem>

namespace xrd::install {

// The folder of the running executable (/proc/self/exe), empty when unknown.
std::filesystem::path exe_dir();

// <exe dir>/../share/xrdbench when that folder exists (an installed xrdbench), else empty. An installed binary
// uses it alone: it never falls back to the source tree it was built from.
std::filesystem::path installed_data_dir();

}  // namespace xrd::install
