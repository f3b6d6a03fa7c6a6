// The shared/ folder (environment first, then the configured default) and the installed binary's data folder, found
// from /proc/self/exe and the relative layout of the install.
#include "base/data_paths.hpp"

#include <cstdlib>
#include <system_error>

#include "base/error.hpp"

// Both come from base/CMakeLists.txt (the XRD_SHARED_DIR cache variable; cmake/XrdVersion.cmake's XRD_BIN_TO_DATA).
#ifndef XRD_SHARED_DIR
#define XRD_SHARED_DIR "../shared"
#endif
#ifndef XRD_BIN_TO_DATA
#define XRD_BIN_TO_DATA "../share/xrdbench"
#endif

namespace xrd::paths {

std::filesystem::path shared_dir() {
  const char* env = std::getenv("XRD_SHARED_DIR");
  return std::filesystem::path(env && *env ? env : XRD_SHARED_DIR);
}

std::filesystem::path fixtures_dir() {
  const std::filesystem::path dir = shared_dir() / "fixtures";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw Error(dir.string(), "", "shared fixtures not found (set XRD_SHARED_DIR to the shared/ folder)");
  return dir;
}

std::filesystem::path exe_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

std::filesystem::path installed_data_dir() {
  const std::filesystem::path dir = exe_dir();
  if (dir.empty()) return {};
  std::error_code ec;
  const std::filesystem::path data = (dir / XRD_BIN_TO_DATA).lexically_normal();
  return std::filesystem::is_directory(data, ec) ? data : std::filesystem::path();
}

}  // namespace xrd::paths
