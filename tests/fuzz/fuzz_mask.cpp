// libFuzzer target for the mask readers (datasets/mask.hpp): the input is a mask file (read through a memfd, so no
// disk I/O per input), read once with any shape and once with a forced shape. Either a clear refusal (xrd::Error) or
// a mask of exactly width x height bytes, each 0 or 1, that agrees between the two reads.
#include <cstdint>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "datasets/mask.hpp"
#include "base/error.hpp"

namespace {

[[noreturn]] void bug() { __builtin_trap(); }

// One memfd for the whole session, rewritten for each input; /proc/self/fd/N is a path any reader can open.
int memfd() {
  static const int fd = ::memfd_create("fuzz_mask.cbf", MFD_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xrd;
  const int fd = memfd();
  if (fd < 0 || ::ftruncate(fd, 0) != 0) return 0;
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) return 0;
    done += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::vector<uint8_t> any;
  try {
    any = mask::read(path);
  } catch (const Error&) {
    return 0;
  }
  for (uint8_t v : any)
    if (v > 1) bug();
  // The same file with a shape given: accepted only when it is the file's own (same bytes), else refused.
  for (size_t w : {size_t(1), any.size()}) {
    const size_t h = w ? any.size() / w : 0;
    if (w == 0 || h == 0 || w * h != any.size()) continue;
    try {
      if (mask::read(path, w, h) != any) bug();
    } catch (const Error&) {
      // another shape than the file's: refused, as documented
    }
  }
  return 0;
}
