// The installed binary's data folder, found from /proc/self/exe and the relative layout of the install.
#include "harness/install_paths.hpp"

#include <system_error>

#include "harness/build_info.hpp"

namespace xrd::install {

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

}  // namespace xrd::install
