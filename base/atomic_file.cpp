// write_file_atomic: temporary file in the same folder, flush, rename(2) over the target.
#include "base/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

#include <unistd.h>

#include "base/error.hpp"

namespace xrd {

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  const auto drop_tmp = [&] {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
  };
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      const int e = errno;
      throw Error(path.string(), "open", "cannot write " + tmp.string() + ": " + (e ? std::strerror(e) : "open failed"));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    const int e = errno;
    if (!out) {
      out.close();
      drop_tmp();
      throw Error(path.string(), "write", std::string("cannot write: ") + (e ? std::strerror(e) : "disk full?"));
    }
    out.close();
    if (!out) {
      const int e2 = errno;
      drop_tmp();
      throw Error(path.string(), "write", std::string("cannot write: ") + (e2 ? std::strerror(e2) : "disk full?"));
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;  // the rename's own errno, before remove() can change it
    drop_tmp();
    throw Error(path.string(), "rename", "cannot move " + tmp.string() + " into place: " + std::strerror(e));
  }
}

}  // namespace xrd
